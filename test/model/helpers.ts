// Shared by the model tests: a tiny model with randomised parameters (so that no zero-initialised LiSA
// output hides a broken path), batches of random features, and tensor comparisons.
import { loadConfig, type ModelConfig, type NastConfig } from "../../src/model/config.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { initParams } from "../../src/eager/init.ts";
import { forward, type ForwardOptions, type NastOutput } from "../../src/model/nast.ts";
import { noGrad, rand, randn, tensor, type Tensor } from "../../src/torch/index.ts";

export function tinyConfig(overrides: Partial<NastConfig> = {}): NastConfig {
  return { ...loadConfig("tiny"), ...overrides };
}

/**
 * Parameters of `cfg`, then every value moved off its initialisation: zero-initialised LiSA outputs (and
 * biases) would otherwise make whole paths vanish, and batch-norm running statistics off (0, 1) make the
 * eval path non-trivial.
 */
export function randomisedParams(cfg: ModelConfig, seed = 7): Map<string, Tensor> {
  const params = initParams(cfg, { seed });
  noGrad(() => {
    for (const [name, t] of params) {
      if (name.endsWith("running_var")) {
        const r = rand(t.shape);
        t.copyInPlace(r).addInPlace(0.5);
        r.dispose();
      } else {
        const n = randn(t.shape);
        t.addInPlace(n, 0.1);
        n.dispose();
      }
    }
  });
  return params;
}

export interface Batch {
  feats: Tensor;
  lengths: Tensor;
  frames: number[];
}

/** Random features (B, maxT, 80); the padding is random too, so a model that reads it shows. */
export function randomBatch(frames: number[]): Batch {
  const T = Math.max(...frames);
  const feats = randn([frames.length, T, 80]);
  const lengths = tensor(BigInt64Array.from(frames, (f) => BigInt(f)));
  return { feats, lengths, frames };
}

export function run(cfg: NastConfig, params: Map<string, Tensor>, batch: Batch, training: boolean, opts: ForwardOptions<Tensor> = {}): NastOutput<Tensor> {
  return forward(new EagerOps(params, training), cfg, batch.feats, batch.lengths, opts);
}

/** One utterance of a batch: feats[b, :frames] as a batch of 1. */
export function single(batch: Batch, b: number): Batch {
  const n = batch.frames[b] as number;
  const feats = batch.feats.slice(0, b, b + 1).slice(1, 0, n).contiguous();
  return { feats, lengths: tensor(new BigInt64Array([BigInt(n)])), frames: [n] };
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.toArray();
  const y = b.toArray();
  if (x.length !== y.length) throw new Error(`size ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
}
