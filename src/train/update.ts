// One optimizer update (docs/model.md §5.4), as `nast train` runs it and `nast bench train` times it: the
// schedules at this update (trainable parameters, inverse-sqrt learning rate, curriculum ratio), forward, loss
// and backward of each micro-batch (step.ts) with the gradient accumulated, clip-norm, and Adam's step, or,
// when the loss or the gradient norm is not finite, no step and the batch-norm statistics as they were before.
// Data parallel, each process runs its share of the micro-batches and the gradients and counts are summed over
// the ranks before the clip (src/train/grad-sync.ts), so that every rank takes the same step: the one a single
// process takes with all the micro-batches.
import { isArConfig, subsampledLength, type ModelConfig } from "../model/config.ts";
import { clipGradNorm, keep, noGrad, synchronize, type Tensor } from "../torch/index.ts";
import type { Rng } from "../util/rng.ts";
import { ctcMinFrames, type HostBatch } from "./batch.ts";
import { curriculumRatio, inverseSqrtLr } from "./schedule.ts";
import type { TrainSettings } from "./settings.ts";
import { microBatchStep, type MicroResult, type StepContext } from "./step.ts";
import { setTrainable, type Trainee } from "./trainee.ts";

export interface UpdateInput {
  /** The update's number, from 1: the schedules are functions of it alone. */
  step: number;
  /**
   * The random stream of the m-th micro-batch (curriculum mask, drop-net), libtorch's generator (dropout)
   * reseeded from it: a function of the micro-batch's place in the data, whichever process runs it.
   */
  streamOf: (m: number) => Rng;
  device: string;
  bf16: boolean;
  /** λ of the retro-fit KL term, or null. */
  klWeight: number | null;
  /** Number of this process's micro-batches, and the m-th of them (taken one at a time, so that the next can be collated meanwhile). */
  micro: number;
  take: (m: number) => Promise<HostBatch> | HostBatch;
  /** Target tokens of all the micro-batches of the update (every rank's): the loss is per token of the update. */
  normalizer: number;
  /** Data parallel: sums gradients and counts over the ranks; null in one process. */
  sync: GradientSync | null;
  /** Numbers summed over the ranks with the update's counts (the trainer's stop votes); returned in `shared`. */
  shared?: number[];
}

export interface GradientSync {
  /** Sums the gradients of `params` over the ranks in place, and `counts` with them; returns the summed counts. */
  reduce(params: Map<string, Tensor>, counts: number[]): number[];
  /** Replaces `tensors` by their mean over the ranks (the batch-norm statistics, which each rank moved alone). */
  average(tensors: Tensor[]): void;
}

export interface UpdateResult {
  loss: number;
  gradNorm: number;
  /** False when the loss or the gradient was not finite: the parameters, moments and batch-norm statistics are unchanged. */
  applied: boolean;
  /** The micro-batches' loss sums and curriculum counts, added up. */
  sums: MicroResult;
  /** Valid input frames of the micro-batches. */
  frames: number;
  /** Utterances whose source or target CTC cannot be aligned (T' < U + repeats): their losses are 0. */
  infeasible: number;
  /** UpdateInput.shared summed over the ranks (as given, in one process). */
  shared: number[];
}

/** The loss of the update before normalisation, from the micro-batches' terms (src/eager/loss.ts, src/eager/ar-loss.ts). */
function lossSum(cfg: ModelConfig, sums: MicroResult, klWeight: number | null): number {
  if (isArConfig(cfg)) return sums.tgt + cfg.decoder.ctcWeight * (sums.src + sums.srcInter);
  return sums.src + sums.srcInter + sums.tgt + sums.tgtInter + (klWeight ?? 0) * sums.kl;
}

export async function update(t: Trainee, settings: TrainSettings, u: UpdateInput): Promise<UpdateResult> {
  setTrainable(t, u.step - 1);
  t.opt.lr = inverseSqrtLr(u.step, settings.lr, settings.warmup, settings.initLr);
  const ctx: StepContext = {
    cfg: t.cfg,
    params: t.params,
    device: u.device,
    bf16: u.bf16,
    curriculum: settings.curriculum
      ? { ratio: curriculumRatio(u.step, settings.curriculumRatio, settings.curriculumDecay), onlyMistakes: settings.curriculumOnlyMistakes, smoothing: settings.curriculumSmoothing }
      : null,
    klWeight: u.klWeight,
  };
  const sums: MicroResult = { src: 0, srcInter: 0, tgt: 0, tgtInter: 0, kl: 0, replaced: 0, validFrames: 0, mistakes: 0 };
  let frames = 0;
  let infeasible = 0;
  t.opt.zeroGrad();
  // Batch-norm statistics move during the forward; a skipped update must not keep what NaNs did to them.
  const savedBuffers = noGrad(() => t.buffers.map((b) => keep(b.clone())));
  for (let m = 0; m < u.micro; m++) {
    const host = await u.take(m);
    host.lengths.forEach((len, k) => {
      frames += len;
      const outLen = subsampledLength(t.cfg, len);
      // The autoregressive model has no target CTC: only its source CTC needs the frames.
      const tgtInfeasible = !isArConfig(t.cfg) && outLen < ctcMinFrames(host.tgtTargets[k]!);
      if (tgtInfeasible || outLen < ctcMinFrames(host.srcTargets[k]!)) infeasible++;
    });
    const r = microBatchStep(ctx, host, u.streamOf(m), u.normalizer);
    for (const k of Object.keys(sums) as (keyof MicroResult)[]) sums[k] += r[k];
  }
  const trainable = new Map([...t.trainable].map((n) => [n, t.params.get(n)!]));
  let shared = u.shared ?? [];
  if (u.sync) {
    const keys = Object.keys(sums) as (keyof MicroResult)[];
    const summed = u.sync.reduce(trainable, [...keys.map((k) => sums[k]), frames, infeasible, ...shared]);
    keys.forEach((k, i) => (sums[k] = summed[i]!));
    frames = summed[keys.length]!;
    infeasible = summed[keys.length + 1]!;
    shared = summed.slice(keys.length + 2);
  }
  const loss = lossSum(t.cfg, sums, u.klWeight) / u.normalizer;
  const gradNorm = clipGradNorm(trainable, settings.clipNorm);
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (!applied) noGrad(() => t.buffers.forEach((b, k) => b.copyInPlace(savedBuffers[k]!)));
  for (const saved of savedBuffers) saved.dispose();
  if (!applied) {
    t.opt.zeroGrad();
    return { loss, gradNorm, applied, sums, frames, infeasible, shared };
  }
  t.opt.step();
  u.sync?.average(t.buffers);
  if (u.device.startsWith("cuda")) synchronize();
  return { loss, gradNorm, applied, sums, frames, infeasible, shared };
}
