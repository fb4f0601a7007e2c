// The libtorch engine of `nast bench speedup` (./speedup.ts): the two checkpoints on CPU or CUDA (bf16 autocast
// there, as validation runs them), CTC-NAST's forward and greedy CTC, the AR model's encoder and cached-decoder
// search (src/eager/ar-stepper.ts). Each call ends by copying the ids to the host, so its time includes the device's.
import { loadModel } from "../../src/eager/load.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { EagerArStepper } from "../../src/eager/ar-stepper.ts";
import { isArConfig } from "../../src/model/config.ts";
import { forward } from "../../src/model/nast.ts";
import { greedyDecode } from "../../src/infer/ctc.ts";
import { search } from "../../src/infer/ar-search.ts";
import type { Features } from "../../src/infer/batch-runner.ts";
import { autocast, noGrad, tensor, tidy, type Tensor } from "../../src/torch/index.ts";
import { UsageError } from "../../src/util/errors.ts";
import type { SpeedupEngine } from "./speedup.ts";

function padded(batch: readonly Features[], device: string): { feats: Tensor; lengths: Tensor } {
  const T = Math.max(...batch.map((x) => x.frames));
  const data = new Float32Array(batch.length * T * 80);
  batch.forEach((x, b) => data.set(x.feats.subarray(0, x.frames * 80), b * T * 80));
  return {
    feats: tensor(data, { shape: [batch.length, T, 80], dtype: "float32", device }),
    lengths: tensor(BigInt64Array.from(batch, (x) => BigInt(x.frames)), { shape: [batch.length], dtype: "int64", device }),
  };
}

export function torchEngine(nastCkpt: string, arCkpt: string, device: string, bf16: boolean): SpeedupEngine {
  const nast = loadModel(nastCkpt, device);
  const ar = loadModel(arCkpt, device);
  const nastCfg = nast.cfg;
  const arCfg = ar.cfg;
  if (isArConfig(nastCfg)) throw new UsageError(`--nast ${nastCkpt}: is an autoregressive checkpoint; give the CTC-NAST one`);
  if (!isArConfig(arCfg)) throw new UsageError(`--ar ${arCkpt}: is a CTC-NAST checkpoint; give the autoregressive one`);
  const ops = new EagerOps(nast.params, false);
  const encodeAr = (batch: readonly Features[]) =>
    noGrad(() =>
      tidy(() => {
        const { feats, lengths } = padded(batch, device);
        return EagerArStepper.encode(arCfg, ar.params, feats, lengths, device, bf16);
      }),
    );
  return {
    name: `libtorch ${device}${bf16 ? " bf16" : ""}`,
    async nast(batch) {
      return noGrad(() =>
        tidy(() => {
          const { feats, lengths } = padded(batch, device);
          const run = () => forward(ops, nastCfg, feats, lengths);
          const out = bf16 ? autocast(run, "bfloat16") : run();
          const ids = out.tgtLogits.argmax(2).to("cpu").data() as BigInt64Array;
          const lens = out.outLengths.to("cpu").toArray() as number[];
          const T = out.tgtLogits.shape[1]!;
          return lens.map((len, b) => greedyDecode(ids.subarray(b * T, (b + 1) * T), undefined, len).tokens.map((t) => t.id));
        }),
      );
    },
    async ar(batch, beam) {
      const stepper = encodeAr(batch);
      try {
        return search(stepper, stepper.encoded.outLengths.to("cpu").toArray() as number[], beam).map((h) => h.tokens);
      } finally {
        stepper.dispose();
      }
    },
    async arEncoder(batch) {
      const stepper = encodeAr(batch);
      // Reading the lengths back waits for the device, as the searches' host copies do.
      stepper.encoded.outLengths.to("cpu").toArray();
      stepper.dispose();
    },
    async release() {
      for (const t of [...nast.params.values(), ...ar.params.values()]) t.dispose();
    },
  };
}
