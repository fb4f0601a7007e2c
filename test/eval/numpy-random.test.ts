// numpy's SeedSequence + PCG64 + Generator.choice reproduced bit for bit: the expected values were printed by
// numpy 2.4.6, e.g. np.random.default_rng(7).choice(10, size=(2, 10), replace=True).
import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapIndices, Pcg64, seedSequenceState } from "../../eval/metrics/numpy-random.ts";

test("SeedSequence(12345).generate_state(4, uint64)", () => {
  assert.deepEqual(
    seedSequenceState(12345, 4).map((x) => x.toString(16)),
    ["b5ae6482a03d837c", "bbe2996ffa1f7a2f", "64e39a9f37158f94", "3ebb0f96a013fd73"],
  );
});

test("default_rng(seed).choice(n, size=(S, n)) as numpy draws it", () => {
  assert.deepEqual(bootstrapIndices(10, 2, 7).map((a) => Array.from(a)), [
    [9, 6, 6, 8, 5, 7, 8, 2, 0, 3],
    [2, 8, 9, 0, 4, 8, 1, 7, 1, 4],
  ]);
  // a seed wider than 32 bits
  assert.deepEqual(Array.from(bootstrapIndices(5, 1, 2 ** 40 + 5)[0] as Uint32Array), [0, 0, 2, 1, 4]);
  const big = bootstrapIndices(2600, 3, 12345);
  assert.deepEqual(Array.from((big[0] as Uint32Array).slice(0, 8)), [1817, 591, 2050, 823, 530, 2073, 1670, 1758]);
  assert.deepEqual(Array.from((big[2] as Uint32Array).slice(-5)), [917, 658, 1963, 873, 1273]);
  // one segment: numpy draws nothing
  assert.deepEqual(Array.from(bootstrapIndices(1, 1, 12345)[0] as Uint32Array), [0]);
  // a range above 2^31 (Lemire rejection on 32-bit draws)
  const rng = new Pcg64(12345);
  assert.deepEqual([rng.below(3000000000), rng.below(3000000000), rng.below(3000000000)], [2097645094, 682008066, 2365940964]);
});
