// Length-bucketed batches under a frame budget, as fairseq's --max-tokens for speech (the budget
// counts padded frames: longest utterance × batch size). Per epoch: a seeded shuffle breaks ties
// between equal lengths (fairseq orders by a random permutation, then by length, stable), batches
// are cut greedily along that order, and the batch order is shuffled. Same (seed, epoch) → same
// batches; different epochs → different batches.
import { mulberry32 } from "../util/rng.ts";

function shuffleInPlace<T>(a: T[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/**
 * Batches of utterance indices whose padded size (max frames × count) is ≤ maxFrames. An utterance
 * longer than maxFrames cannot fit any batch and is an error (filter it, or raise maxFrames).
 */
export function batchesByFrames(frames: readonly number[], maxFrames: number, seed: number, epoch: number): number[][] {
  if (!(maxFrames > 0)) throw new RangeError(`maxFrames must be positive, got ${maxFrames}`);
  frames.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 0) throw new RangeError(`utterance ${i} has an invalid frame count ${f}`);
    if (f > maxFrames) throw new RangeError(`utterance ${i} has ${f} frames, more than maxFrames ${maxFrames}: filter it or raise maxFrames`);
  });
  // Mix seed and epoch into one 32-bit state (golden-ratio step keeps nearby pairs apart).
  const rand = mulberry32(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((epoch >>> 0) + 1, 0x85ebca6b));
  const order = frames.map((_, i) => i);
  shuffleInPlace(order, rand);
  order.sort((a, b) => frames[a]! - frames[b]!); // stable: equal lengths keep the shuffled order

  const batches: number[][] = [];
  let batch: number[] = [];
  let longest = 0;
  for (const i of order) {
    const f = frames[i]!;
    const longestIf = Math.max(longest, f);
    if (batch.length > 0 && longestIf * (batch.length + 1) > maxFrames) {
      batches.push(batch);
      batch = [];
      longest = 0;
    }
    batch.push(i);
    longest = Math.max(longest, f);
  }
  if (batch.length > 0) batches.push(batch);
  shuffleInPlace(batches, rand);
  return batches;
}
