// One micro-batch from a feature store: utterance CMVN, SpecAugment (train only), zero padding, targets;
// the transforms of the reference recipe in its order (docs/model.md §2.1: train = [utterance_cmvn,
// specaugment], eval = [utterance_cmvn]).
import { utteranceCmvn } from "../audio/cmvn.ts";
import { specAugment } from "../audio/specaugment.ts";
import type { FeatureStore } from "../data/feature-store.ts";
import type { Rng } from "../util/rng.ts";

export interface HostBatch {
  /** Store indices of the utterances, in batch order. */
  indices: number[];
  /** (B, T, dim) row-major, zero-padded to the longest utterance T. */
  feats: Float32Array;
  frames: number;
  dim: number;
  lengths: number[];
  srcTargets: number[][];
  tgtTargets: number[][];
}

export function collate(store: FeatureStore, indices: number[], augment: Rng | null): HostBatch {
  const items = indices.map((i) => store.item(i));
  const dim = items.length > 0 ? items[0]!.feats.length / Math.max(1, items[0]!.frames) : 80;
  const T = Math.max(1, ...items.map((it) => it.frames));
  const feats = new Float32Array(indices.length * T * dim);
  items.forEach((it, b) => {
    let x = utteranceCmvn(it.feats, it.frames, dim);
    if (augment) x = specAugment(x, it.frames, dim, augment);
    feats.set(x, b * T * dim);
  });
  return {
    indices,
    feats,
    frames: T,
    dim,
    lengths: items.map((it) => it.frames),
    srcTargets: indices.map((i) => store.meta(i).srcIds),
    tgtTargets: indices.map((i) => store.meta(i).tgtIds),
  };
}

/** Frames a CTC path needs for a label sequence: one per label plus a blank between equal neighbours. */
export function ctcMinFrames(target: readonly number[]): number {
  let n = target.length;
  for (let i = 1; i < target.length; i++) if (target[i] === target[i - 1]) n++;
  return n;
}
