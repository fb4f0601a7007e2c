import assert from "node:assert/strict";
import { test } from "node:test";
import { ctcMinFrames } from "../../src/train/batch.ts";

test("ctcMinFrames counts a blank between repeated tokens", () => {
  assert.equal(ctcMinFrames([]), 0);
  assert.equal(ctcMinFrames([4, 5, 6]), 3);
  assert.equal(ctcMinFrames([12, 12, 12]), 5);
  assert.equal(ctcMinFrames([3, 3, 4, 4, 3]), 7);
});
