// The curriculum of CTC-NAST (docs/model.md §5.2): GLAT-style ground-truth mixing into the target PAE.
// Pass 1 (no grad, train mode) gives the final target-CTC logits; this module turns them into the oracle that
// pass 2 feeds to the target PAE layers:
//   oracle_t  = frame label of the Viterbi CTC alignment of the reference (viterbi.ts)
//   mistake_t = argmax_v z_t != oracle_t
//   mask_t    = U(0,1) < ratio AND mistake_t        (drawn once per step, shared by every PAE layer)
// Padded frames and utterances without a feasible alignment are never masked. The host side works on
// pre-gathered emissions (B, T', U_max+1) so that only a small tensor leaves the device.
import type { Rng } from "../util/rng.ts";
import { statesToIds, viterbiAlign } from "./viterbi.ts";

export interface OracleInput {
  /** log_softmax of the target logits gathered at [blank, y_1..y_U] per frame: (B, T', stride) row-major. */
  emissions: Float32Array;
  /** The last axis of `emissions`: U_max + 1. */
  stride: number;
  /** Padded time axis T'. */
  frames: number;
  /** Valid frames per utterance (the model's outLengths). */
  lengths: ArrayLike<number>;
  /** Per-frame argmax of the same logits, (B, T'). */
  argmax: ArrayLike<number>;
  /** Reference target ids per utterance (no blank, no EOS). */
  targets: ArrayLike<number>[];
  /** Probability of replacing a mistaken frame (reference: 0.8). */
  ratio: number;
  /** Replace only frames the model got wrong (reference: true); false replaces any frame with prob. ratio. */
  onlyMistakes: boolean;
  rng: Rng;
  blank?: number;
}

export interface Oracle {
  /** 1 where the PAE input is replaced by the smoothed one-hot of `ids`, (B, T'). */
  mask: Uint8Array;
  /** Oracle frame labels (blank on padded frames), (B, T'). */
  ids: Int32Array;
  /** Frames replaced, valid frames, frames the model got wrong, utterances without a feasible alignment. */
  replaced: number;
  validFrames: number;
  mistakes: number;
  infeasible: number;
}

export function buildOracle(inp: OracleInput): Oracle {
  const B = inp.targets.length;
  const Tp = inp.frames;
  const blank = inp.blank ?? 0;
  const mask = new Uint8Array(B * Tp);
  const ids = new Int32Array(B * Tp).fill(blank);
  let replaced = 0;
  let validFrames = 0;
  let mistakes = 0;
  let infeasible = 0;
  for (let b = 0; b < B; b++) {
    const len = Math.min(Number(inp.lengths[b]), Tp);
    const target = inp.targets[b] as ArrayLike<number>;
    validFrames += len;
    // Draw the uniforms for every frame of the row, feasible or not, so that the stream of draws (and
    // thus every later mask) does not depend on which alignments happened to be feasible.
    const u = new Float64Array(Tp);
    for (let t = 0; t < Tp; t++) u[t] = inp.rng.uniform();
    const path = viterbiAlign({ data: inp.emissions, offset: b * Tp * inp.stride, stride: inp.stride, frames: len }, target);
    if (path === null) {
      infeasible++;
      continue;
    }
    const oracle = statesToIds(path, target, blank);
    for (let t = 0; t < len; t++) {
      const i = b * Tp + t;
      ids[i] = oracle[t] as number;
      const wrong = Number(inp.argmax[i]) !== oracle[t];
      if (wrong) mistakes++;
      if ((u[t] as number) < inp.ratio && (wrong || !inp.onlyMistakes)) {
        mask[i] = 1;
        replaced++;
      }
    }
  }
  return { mask, ids, replaced, validFrames, mistakes, infeasible };
}
