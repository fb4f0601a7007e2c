// OrtBatchRunner's fetches (src/infer/ort-runner.ts): greedy decoding reads the first four outputs, a blank penalty
// the alternatives to the blank, beam search everything; a package exported before the alternatives existed
// (its five outputs) reads the log-probabilities for a blank penalty instead. A stand-in session records what
// is fetched, so the test sees exactly what onnxruntime would be asked for.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-common";
import { OrtBatchRunner, checkNastSession } from "../../src/infer/ort-runner.ts";
import { LEGACY_OUTPUTS, OUTPUTS } from "../../src/infer/model-io.ts";

/** A session with `outputs` that returns zeros of the right shapes (T' = 2, V = 3) and records each fetch list. */
function standIn(outputs: readonly string[]): { session: InferenceSession; fetched: string[][] } {
  const fetched: string[][] = [];
  const [T, V] = [2, 3];
  const make = (name: string): ort.Tensor => {
    if (name === "out_lengths") return new ort.Tensor("int64", BigInt64Array.from([2n]), [1]);
    if (name === "tgt_log_probs") return new ort.Tensor("float32", new Float32Array(T * V), [1, T, V]);
    return name.endsWith("_ids") ? new ort.Tensor("int64", new BigInt64Array(T), [1, T]) : new ort.Tensor("float32", new Float32Array(T), [1, T]);
  };
  const session = {
    inputNames: ["feats", "lengths"],
    outputNames: [...outputs],
    run: async (_feeds: unknown, fetches: string[]) => {
      fetched.push(fetches);
      return Object.fromEntries(fetches.map((n) => [n, make(n)]));
    },
  } as unknown as InferenceSession;
  return { session, fetched };
}

const item = [{ feats: new Float32Array(8 * 80), frames: 8 }];

test("a package with the alternatives: greedy reads four outputs, a blank penalty seven, beam search all", async () => {
  const { session, fetched } = standIn(OUTPUTS);
  checkNastSession(session, "model.onnx");
  const runner = new OrtBatchRunner(ort, session, 80, 3);
  const greedy = await runner.run(item);
  const penalty = await runner.run(item, "alternatives");
  const beam = await runner.run(item, "logProbs");
  assert.deepEqual(fetched.map((f) => f.length), [4, 7, 8]);
  assert.ok(greedy.tgtAlternatives === undefined && greedy.tgtLogProbs === undefined);
  assert.ok(penalty.tgtAlternatives !== undefined && penalty.tgtLogProbs === undefined);
  assert.deepEqual(penalty.tgtAlternatives.ids.length, 2);
  assert.ok(beam.tgtLogProbs?.length === 6);
});

test("a package exported before the alternatives: a blank penalty reads the log-probabilities; other outputs are refused", async () => {
  const { session, fetched } = standIn(LEGACY_OUTPUTS);
  checkNastSession(session, "model.onnx");
  const runner = new OrtBatchRunner(ort, session, 80, 3);
  const penalty = await runner.run(item, "alternatives");
  assert.deepEqual(fetched[0], [...LEGACY_OUTPUTS]);
  assert.ok(penalty.tgtAlternatives === undefined && penalty.tgtLogProbs?.length === 6);
  assert.throws(() => checkNastSession(standIn(["tgt_ids", "tgt_scores"]).session, "old/model.onnx"), /old\/model\.onnx: outputs \[tgt_ids, tgt_scores\] instead of .*re-export it/);
});
