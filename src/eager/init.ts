// Creates the model's parameters and buffers with libtorch, as paramSpecs describes them, and checks a loaded
// state dict against the specs. Values are drawn on the CPU generator (seeded) and then moved, so a seed gives
// the same initial model on every device.
import type { ModelConfig } from "../model/config.ts";
import { paramSpecs, type InitSpec, type ParamSpecOptions } from "../model/params.ts";
import { keep, manualSeed, noGrad, ones, rand, randn, tidy, zeros, type Device, type Tensor } from "../torch/index.ts";

export interface InitOptions extends ParamSpecOptions {
  seed: number;
  device?: Device;
  /** Names not to create (already supplied, e.g. by a trained checkpoint when retro-fitting LiSA). */
  skip?: ReadonlySet<string>;
}

function draw(init: InitSpec, shape: number[]): Tensor {
  switch (init.kind) {
    case "zeros":
      return zeros(shape);
    case "ones":
      return ones(shape);
    case "normal":
      return randn(shape).mul(init.std);
    case "uniform":
      return rand(shape).mul(2 * init.bound).sub(init.bound);
  }
}

/**
 * The parameters and buffers of a new model (float32, on `device`), by state-dict name. Parameters require
 * gradients; buffers (batch-norm running statistics) do not. The tensors are kept out of any tidy scope:
 * the caller owns them.
 */
export function initParams(cfg: ModelConfig, opts: InitOptions): Map<string, Tensor> {
  manualSeed(opts.seed);
  const out = new Map<string, Tensor>();
  noGrad(() => {
    for (const spec of paramSpecs(cfg, opts)) {
      if (opts.skip?.has(spec.name)) continue;
      const t = keep(tidy(() => {
        const cpu = draw(spec.init, spec.shape);
        return opts.device !== undefined && opts.device !== "cpu" ? cpu.to(opts.device) : cpu;
      }));
      if (!spec.buffer) t.setRequiresGrad(true);
      out.set(spec.name, t);
    }
  });
  return out;
}
