// A state dict drawn from the model's own init specs (src/model/params.ts) in plain TypeScript, for
// export tests and speed benchmarks that need a model of the right shape without libtorch or training.
import type { ModelConfig } from "../model/config.ts";
import { paramSpecs } from "../model/params.ts";
import { Rng } from "../util/rng.ts";
import type { StoredTensor } from "./checkpoint.ts";

export function randomStateDict(cfg: ModelConfig, seed = 1): Map<string, StoredTensor> {
  const rng = new Rng(seed);
  const out = new Map<string, StoredTensor>();
  for (const spec of paramSpecs(cfg)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    const init = spec.init;
    for (let i = 0; i < n; i++) {
      switch (init.kind) {
        case "zeros":
          values[i] = 0;
          break;
        case "ones":
          values[i] = 1;
          break;
        case "normal":
          values[i] = rng.normal() * init.std;
          break;
        case "uniform":
          values[i] = (2 * rng.uniform() - 1) * init.bound;
          break;
      }
    }
    out.set(spec.name, { dtype: "float32", shape: spec.shape, data: new Uint8Array(values.buffer) });
  }
  return out;
}
