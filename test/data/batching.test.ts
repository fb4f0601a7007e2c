import { strict as assert } from "node:assert";
import { test } from "node:test";
import { batchesByFrames } from "../../src/data/batching.ts";

function lengths(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 5 + (s % 2995);
  });
}

test("every utterance once, every batch within the padded frame budget", () => {
  const frames = lengths(2000, 1);
  const batches = batchesByFrames(frames, 20000, 1, 0);
  const seen = batches.flat().sort((a, b) => a - b);
  assert.deepEqual(seen, frames.map((_, i) => i));
  for (const b of batches) {
    assert.ok(b.length > 0);
    assert.ok(Math.max(...b.map((i) => frames[i]!)) * b.length <= 20000);
  }
});

test("batches are length-bucketed: little padding compared with random batches", () => {
  const frames = lengths(2000, 2);
  const padding = (bs: number[][]) => bs.reduce((sum, b) => sum + Math.max(...b.map((i) => frames[i]!)) * b.length - b.reduce((s, i) => s + frames[i]!, 0), 0);
  const total = frames.reduce((a, b) => a + b, 0);
  const bucketed = batchesByFrames(frames, 20000, 3, 0);
  assert.ok(padding(bucketed) < 0.05 * total, `padding ${padding(bucketed)} of ${total}`);
  // The same number of batches over a random order pads far more.
  const random = frames.map((_, i) => i).sort((a, b) => ((a * 7919) % 2003) - ((b * 7919) % 2003));
  const size = Math.ceil(frames.length / bucketed.length);
  const randomBatches = Array.from({ length: bucketed.length }, (_, k) => random.slice(k * size, (k + 1) * size)).filter((b) => b.length > 0);
  assert.ok(padding(randomBatches) > 5 * padding(bucketed));
});

test("deterministic for (seed, epoch); a new epoch or seed gives a new order", () => {
  const frames = lengths(500, 3).map((f) => 100 + (f % 50)); // many equal lengths: ties matter
  const a = batchesByFrames(frames, 5000, 7, 3);
  assert.deepEqual(batchesByFrames(frames, 5000, 7, 3), a);
  assert.notDeepEqual(batchesByFrames(frames, 5000, 7, 4), a);
  assert.notDeepEqual(batchesByFrames(frames, 5000, 8, 3), a);
  // Batch order is shuffled: batch maxima are not monotonic.
  const maxima = a.map((b) => Math.max(...b.map((i) => frames[i]!)));
  assert.notDeepEqual(maxima, [...maxima].sort((x, y) => x - y));
});

test("an utterance longer than the budget is an error naming it", () => {
  assert.throws(() => batchesByFrames([10, 5000, 20], 4000, 1, 0), /utterance 1 has 5000 frames/);
  assert.throws(() => batchesByFrames([10], 0, 1, 0), /maxFrames/);
  assert.deepEqual(batchesByFrames([], 100, 1, 0), []);
});
