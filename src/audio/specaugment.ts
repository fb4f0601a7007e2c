// SpecAugment without time warping, policy "ld2" of the reference recipe (docs/model.md §2.1;
// fairseq/data/audio/feature_transforms/specaugment.py of facebookresearch/fairseq): 2 frequency masks of
// width U[0, 27), 2 time masks of width U[0, min(100, floor(0.05·T))), masked cells set to the mean
// of the whole (input) spectrogram. The draw order and bounds follow fairseq's numpy randint
// calls (upper bounds exclusive), with our seeded Rng in place of numpy's global generator.
import type { Rng } from "../util/rng.ts";

export interface SpecAugmentPolicy {
  freqMasks: number;
  /** Frequency mask width is drawn from [0, freqMaskF). */
  freqMaskF: number;
  timeMasks: number;
  /** Time mask width is drawn from [0, min(timeMaskT, floor(timeMaskP·T))). */
  timeMaskT: number;
  timeMaskP: number;
}

export const LD2_POLICY: SpecAugmentPolicy = { freqMasks: 2, freqMaskF: 27, timeMasks: 2, timeMaskT: 100, timeMaskP: 0.05 };

/** Applies the masks in place to row-major [frames, dim] features; returns the same array. */
export function specAugment(data: Float32Array, frames: number, dim: number, rng: Rng, policy: SpecAugmentPolicy = LD2_POLICY): Float32Array {
  // fairseq returns the input untouched for empty input or fewer bins than the mask bound.
  if (frames === 0 || dim < policy.freqMaskF) return data;
  let sum = 0;
  for (let i = 0; i < frames * dim; i++) sum += data[i]!;
  const maskValue = sum / (frames * dim);
  for (let m = 0; m < policy.freqMasks; m++) {
    const width = rng.range(0, policy.freqMaskF);
    const start = rng.range(0, dim - width);
    if (width === 0) continue;
    for (let f = 0; f < frames; f++) data.fill(maskValue, f * dim + start, f * dim + start + width);
  }
  const maxWidth = Math.min(policy.timeMaskT, Math.floor(frames * policy.timeMaskP));
  if (maxWidth < 1) return data;
  for (let m = 0; m < policy.timeMasks; m++) {
    const width = rng.range(0, maxWidth);
    const start = rng.range(0, frames - width);
    if (width === 0) continue;
    data.fill(maskValue, start * dim, (start + width) * dim);
  }
  return data;
}
