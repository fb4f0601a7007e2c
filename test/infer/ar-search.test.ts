// Beam search and greedy search of the autoregressive counterpart (src/infer/ar-search.ts) on a tiny model with a
// 4-token vocabulary, on the libtorch stepper with its key/value cache: a beam wide enough to keep every prefix
// finds exactly the best sequence of an exhaustive search (scored by teacher forcing), per utterance of a batch;
// the scores it reports are the teacher-forced ones; a narrow beam never beats the exhaustive best; beam 1 is greedy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadModelConfig, withVocabSize, type ArConfig } from "../../src/model/config.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { arForward } from "../../src/model/ar.ts";
import { EOS_ID } from "../../src/model/token-ids.ts";
import { decoderTargets } from "../../src/eager/ar-loss.ts";
import { EagerArStepper } from "../../src/eager/ar-stepper.ts";
import { beamSearch, greedySearch, type Hypothesis } from "../../src/infer/ar-search.ts";
import { manualSeed, noGrad, setNumThreads, tidy } from "../../src/torch/index.ts";
import { randomBatch, randomisedParams, single, type Batch } from "../model/helpers.ts";

setNumThreads(1);
const V = 4;
const cfg = withVocabSize(loadModelConfig("ar-tiny") as ArConfig, V);
const params = randomisedParams(cfg, 3);
// The tied embedding makes a random model end every translation at once (E[</s>]·E[</s>]ᵀ dominates the first
// step); with a zero </s> row this one prefers three-token sequences for the first utterance, and beam 2 misses it.
noGrad(() => params.get("decoder.embed.weight")!.slice(0, EOS_ID, EOS_ID + 1).zeroInPlace());

/** Every token sequence of at most `maxLen` tokens not containing </s>. */
function allSequences(maxLen: number): number[][] {
  const out: number[][] = [[]];
  for (let n = 0, frontier: number[][] = [[]]; n < maxLen; n++) {
    frontier = frontier.flatMap((s) => [0, 1, 3].map((v) => [...s, v]));
    out.push(...frontier);
  }
  return out;
}

/** Σ log p(y, </s>) of each sequence by teacher forcing, for one utterance. */
function teacherForcedScores(utt: Batch, seqs: number[][]): number[] {
  return noGrad(() =>
    tidy(() => {
      const n = seqs.length;
      const feats = utt.feats.expand([n, -1, -1]).contiguous();
      const lengths = utt.lengths.expand([n]).contiguous();
      const { prev, next } = decoderTargets(seqs, "cpu");
      const logp = arForward(new EagerOps(params, false), cfg, feats, lengths, prev).logits.logSoftmax(2);
      const picked = logp.gather(2, next.unsqueeze(2)).squeeze(2).toArray() as number[]; // (n,U)
      const U = next.shape[1]!;
      return seqs.map((s, i) => picked.slice(i * U, i * U + s.length + 1).reduce((a, x) => a + x, 0));
    }),
  );
}

function search(batch: Batch, run: (s: EagerArStepper) => Hypothesis[]): Hypothesis[] {
  const stepper = EagerArStepper.encode(cfg, params, batch.feats, batch.lengths, "cpu", false);
  try {
    return run(stepper);
  } finally {
    stepper.dispose();
  }
}

test("a beam that keeps every prefix finds the exhaustive search's best sequence, with its teacher-forced score", () => {
  manualSeed(100);
  const batch = randomBatch([36, 27]);
  const maxLengths = [3, 2];
  const wide = search(batch, (s) => beamSearch(s, maxLengths, 64));
  const narrow = search(batch, (s) => beamSearch(s, maxLengths, 2));
  maxLengths.forEach((maxLen, b) => {
    const seqs = allSequences(maxLen);
    assert.equal(seqs.length, maxLen === 3 ? 40 : 13);
    const scores = teacherForcedScores(single(batch, b), seqs);
    const normalized = scores.map((x, i) => x / (seqs[i]!.length + 1));
    const best = normalized.indexOf(Math.max(...normalized));
    assert.deepEqual(wide[b]!.tokens, seqs[best], `utterance ${b}`);
    assert.ok(Math.abs(wide[b]!.score - scores[best]!) < 1e-4, `score ${wide[b]!.score} vs ${scores[best]}`);
    assert.ok(Math.abs(wide[b]!.normalized - normalized[best]!) < 1e-4);
    // The narrow beam's hypothesis is one of the sequences, scored as teacher forcing scores it, and no better.
    const k = seqs.findIndex((s) => s.length === narrow[b]!.tokens.length && s.every((v, i) => v === narrow[b]!.tokens[i]));
    assert.ok(k >= 0);
    assert.ok(Math.abs(narrow[b]!.score - scores[k]!) < 1e-4);
    assert.ok(narrow[b]!.normalized <= normalized[best]! + 1e-6);
  });
  // The search is not trivial on this model: the best is not the empty sequence, and pruning to 2 loses it.
  assert.deepEqual([wide[0]!.tokens, narrow[0]!.tokens], [[1, 1, 1], [0, 0, 0]]);
});

test("beam 1 is greedy search; greedy stops at </s> or the maximum length", () => {
  const batch = randomBatch([30, 41, 25]);
  const maxLengths = [6, 4, 5];
  const greedy = search(batch, (s) => greedySearch(s, maxLengths));
  const beam1 = search(batch, (s) => beamSearch(s, maxLengths, 1));
  assert.deepEqual(beam1.map((h) => h.tokens), greedy.map((h) => h.tokens));
  greedy.forEach((h, b) => {
    assert.ok(h.tokens.length <= maxLengths[b]!);
    assert.ok(!h.tokens.includes(EOS_ID));
    assert.ok(Math.abs(h.score - beam1[b]!.score) < 1e-5);
  });
});

test("beam search checks its width", () => {
  assert.throws(() => beamSearch({ vocabSize: V, step: () => new Float32Array(0) }, [1], 0), /the beam must be a positive integer, got 0/);
});
