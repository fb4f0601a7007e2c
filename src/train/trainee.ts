// The model under training and its optimizer: the parameters, the batch-norm buffers an update may have to
// restore, which parameters train at a given update (a LiSA retro-fit trains LiSA's alone until
// --unfreeze-after, docs/model.md §7.6), and Adam over every trainable parameter (docs/model.md §5.4).
import type { ModelConfig } from "../model/config.ts";
import { lisaParamNames, paramSpecs } from "../model/params.ts";
import { Adam, type Tensor } from "../torch/index.ts";
import type { TrainSettings } from "./settings.ts";

/** The part of a LiSA retro-fit that decides which parameters train. */
export interface Freeze {
  /** Train every parameter from this update on; null: only LiSA's, throughout. */
  unfreezeAfter: number | null;
}

export interface Trainee {
  cfg: ModelConfig;
  params: Map<string, Tensor>;
  /** Batch-norm running statistics: they move in the forward, not by the optimizer. */
  buffers: Tensor[];
  /** Every non-buffer parameter, by name: what Adam holds moments for. */
  optimized: Map<string, Tensor>;
  /** The names that get gradients at the current update (see setTrainable). */
  trainable: Set<string>;
  freeze: Freeze | null;
  opt: Adam;
}

function trainableNames(cfg: ModelConfig, freeze: Freeze | null, step: number): Set<string> {
  if (freeze && (freeze.unfreezeAfter === null || step < freeze.unfreezeAfter)) return new Set(lisaParamNames(cfg));
  return new Set(paramSpecs(cfg).filter((s) => !s.buffer).map((s) => s.name));
}

/** Parameters train or not as the retro-fit's freeze says after `step` updates. */
export function setTrainable(t: Trainee, step: number): void {
  const next = trainableNames(t.cfg, t.freeze, step);
  if (next.size === t.trainable.size) return;
  t.trainable = next;
  for (const [name, p] of t.optimized) p.setRequiresGrad(t.trainable.has(name));
}

/** The model of `params` with Adam as the settings say, trainable as at update `step`. */
export function buildTrainee(cfg: ModelConfig, params: Map<string, Tensor>, settings: TrainSettings, freeze: Freeze | null, step: number): Trainee {
  const specs = paramSpecs(cfg);
  const optimized = new Map(specs.filter((s) => !s.buffer).map((s) => [s.name, params.get(s.name)!]));
  const trainable = trainableNames(cfg, freeze, step);
  for (const [name, p] of optimized) p.setRequiresGrad(trainable.has(name));
  const opt = new Adam(optimized, { lr: settings.lr, betas: settings.adamBetas, eps: settings.adamEps, weightDecay: settings.weightDecay });
  return { cfg, params, buffers: specs.filter((s) => s.buffer).map((s) => params.get(s.name)!), optimized, trainable, freeze, opt };
}
