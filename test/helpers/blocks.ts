// Audio cut into blocks of random sizes, as a stream delivers it: the streaming tests feed these and expect
// the same result as for the whole signal.
import type { Rng } from "../../src/util/rng.ts";

/** `samples` in blocks of 1 to `large` samples; one block in five is at most `small` samples. */
export function* randomBlocks(rng: Rng, samples: Float32Array, small: number, large: number): Generator<Float32Array> {
  let i = 0;
  while (i < samples.length) {
    const n = 1 + Math.floor(rng.uniform() * (rng.uniform() < 0.2 ? small : large));
    yield samples.subarray(i, Math.min(samples.length, i + n));
    i += n;
  }
}
