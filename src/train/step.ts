// The loss of one micro-batch and its gradient (docs/model.md §5.1, §5.2, §7.6):
//   curriculum pass 1 (no grad, train mode) → Viterbi oracle (curriculum.ts) → pass 2 with the oracle
//   → nastLoss (src/eager/loss.ts), summed over the batch → divided by the caller's normalizer → backward.
// The autoregressive counterpart (docs/model.md §10): one teacher-forced forward → arLoss (src/eager/ar-loss.ts).
// The normalizer is the number of target tokens of the whole update, as fairseq's sample_size. On CUDA the
// forward runs under bf16 autocast.
import { isArConfig, type ArConfig, type ModelConfig, type NastConfig } from "../model/config.ts";
import { EagerOps } from "../eager/eager-ops.ts";
import { arForward } from "../model/ar.ts";
import { forward, type ForwardOptions, type NastOutput } from "../model/nast.ts";
import { arLoss, decoderTargets } from "../eager/ar-loss.ts";
import { nastLoss, targetTensors, type LossTargets } from "../eager/loss.ts";
import { autocast, noGrad, tensor, tidy, type Tensor } from "../torch/index.ts";
import type { Rng } from "../util/rng.ts";
import type { HostBatch } from "./batch.ts";
import { buildOracle } from "./curriculum.ts";

export interface StepContext {
  cfg: ModelConfig;
  params: Map<string, Tensor>;
  device: string;
  /** bf16 autocast for the forward (CUDA). */
  bf16: boolean;
  /** Ground-truth mixing for this update (ratio already scheduled), or null when off. */
  curriculum: { ratio: number; onlyMistakes: boolean; smoothing: number } | null;
  /** LiSA retro-fit: weight λ of KL(full attention ‖ LiSA attention), or null. */
  klWeight: number | null;
}

/** Per-batch sums (not yet normalised) and curriculum counts of one micro-batch (autoregressive: `tgt` is the label-smoothed CE). */
export interface MicroResult {
  src: number;
  srcInter: number;
  tgt: number;
  tgtInter: number;
  kl: number;
  replaced: number;
  validFrames: number;
  mistakes: number;
}

export interface DeviceBatch extends LossTargets {
  feats: Tensor;
  lengths: Tensor;
}

export function toDevice(batch: HostBatch, device: string): DeviceBatch {
  const B = batch.indices.length;
  const [src, srcLengths] = targetTensors(batch.srcTargets, device);
  const [tgt, tgtLengths] = targetTensors(batch.tgtTargets, device);
  return {
    feats: tensor(batch.feats, { shape: [B, batch.frames, batch.dim], dtype: "float32", device }),
    lengths: tensor(BigInt64Array.from(batch.lengths, (n) => BigInt(n)), { shape: [B], dtype: "int64", device }),
    src,
    srcLengths,
    tgt,
    tgtLengths,
  };
}

function runForward(ctx: StepContext, cfg: NastConfig, ops: EagerOps, b: DeviceBatch, rng: Rng, extra: ForwardOptions<Tensor>): NastOutput<Tensor> {
  const run = () => forward(ops, cfg, b.feats, b.lengths, { random: () => rng.uniform(), ...extra });
  return ctx.bf16 ? autocast(run, "bfloat16") : run();
}

/**
 * Curriculum pass 1: the model's own target-CTC prediction without gradients, its Viterbi alignment to the
 * reference, and the mask of frames whose PAE input gets the ground truth (docs/model.md §5.2 steps 1-4).
 */
function curriculumOracle(ctx: StepContext, cfg: NastConfig, ops: EagerOps, b: DeviceBatch, host: HostBatch, rng: Rng) {
  const cur = ctx.curriculum!;
  const pass1 = noGrad(() =>
    tidy(() => {
      const out = runForward(ctx, cfg, ops, b, rng, {});
      const logp = out.tgtLogits.to("float32").logSoftmax(2); // (B,T',V)
      const [B, Tp] = [logp.shape[0]!, logp.shape[1]!];
      // Gather [blank, y_1..y_U] per frame on the device: (B,T',U_max+1) leaves it instead of (B,T',V).
      const S = Math.max(1, ...host.tgtTargets.map((t) => t.length)) + 1;
      const index = new BigInt64Array(B * S);
      host.tgtTargets.forEach((t, i) => t.forEach((id, u) => (index[i * S + 1 + u] = BigInt(id))));
      const idx = tensor(index, { shape: [B, 1, S], dtype: "int64", device: ctx.device }).expand([B, Tp, S]);
      return {
        emissions: logp.gather(2, idx).to("cpu").data() as Float32Array,
        argmax: Int32Array.from(logp.argmax(2).to("cpu").data() as BigInt64Array, Number),
        lengths: out.outLengths.to("cpu").toArray(),
        frames: Tp,
        stride: S,
      };
    }),
  );
  const oracle = buildOracle({
    emissions: pass1.emissions,
    stride: pass1.stride,
    frames: pass1.frames,
    lengths: pass1.lengths,
    argmax: pass1.argmax,
    targets: host.tgtTargets,
    ratio: cur.ratio,
    onlyMistakes: cur.onlyMistakes,
    rng,
  });
  const B = host.indices.length;
  const mask = tensor(oracle.mask, { shape: [B, pass1.frames], dtype: "bool", device: ctx.device });
  const ids = tensor(BigInt64Array.from(oracle.ids, (v) => BigInt(v)), { shape: [B, pass1.frames], dtype: "int64", device: ctx.device });
  return { oracle, tensors: { mask, ids, smoothing: cur.smoothing } };
}

/**
 * Forward (both curriculum passes) and backward of one micro-batch. `normalizer` is the number of target
 * tokens of the whole update; the gradient accumulates into the parameters' .grad.
 */
export function microBatchStep(ctx: StepContext, host: HostBatch, rng: Rng, normalizer: number): MicroResult {
  const { cfg } = ctx;
  if (isArConfig(cfg)) return arMicroBatchStep(ctx, cfg, host, rng, normalizer);
  return tidy(() => {
    const ops = new EagerOps(ctx.params, true);
    const b = toDevice(host, ctx.device);
    const cur = ctx.curriculum ? curriculumOracle(ctx, cfg, ops, b, host, rng) : null;
    const out = runForward(ctx, cfg, ops, b, rng, {
      ...(cur ? { oracle: cur.tensors } : {}),
      ...(ctx.klWeight !== null ? { teacher: true } : {}),
    });
    const { loss, src, srcInter, tgt, tgtInter, kl } = nastLoss(out, b, ctx.klWeight);
    loss.div(normalizer).backward();
    const o = cur?.oracle;
    return {
      src: src.item(),
      srcInter: srcInter?.item() ?? 0,
      tgt: tgt.item(),
      tgtInter: tgtInter?.item() ?? 0,
      kl: kl?.item() ?? 0,
      replaced: o?.replaced ?? 0,
      validFrames: o?.validFrames ?? 0,
      mistakes: o?.mistakes ?? 0,
    };
  });
}

/** The autoregressive model's micro-batch: teacher-forced forward, label-smoothed CE + λ·source CTC, backward. */
function arMicroBatchStep(ctx: StepContext, cfg: ArConfig, host: HostBatch, rng: Rng, normalizer: number): MicroResult {
  return tidy(() => {
    const ops = new EagerOps(ctx.params, true);
    const b = toDevice(host, ctx.device);
    const { prev, next } = decoderTargets(host.tgtTargets, ctx.device);
    const run = () => arForward(ops, cfg, b.feats, b.lengths, prev, () => rng.uniform());
    const out = ctx.bf16 ? autocast(run, "bfloat16") : run();
    const { loss, ce, src, srcInter } = arLoss(cfg, out, next, b.src, b.srcLengths);
    loss.div(normalizer).backward();
    return { src: src.item(), srcInter: srcInter?.item() ?? 0, tgt: ce.item(), tgtInter: 0, kl: 0, replaced: 0, validFrames: 0, mistakes: 0 };
  });
}
