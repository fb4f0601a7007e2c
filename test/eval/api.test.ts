// The library API other parts of nast use (docs/design.md §2.5): corpusBleu/corpusChrf/corpusTer return
// {name, score, signature, format(width)}; sentence-level functions; a variable number of references.
// Expected values printed by sacreBLEU 2.6.0 (BLEU().corpus_score, sentence_bleu, ...).
import assert from "node:assert/strict";
import { test } from "node:test";
import { corpusBleu, corpusChrf, corpusTer, sentenceBleu, sentenceChrf, sentenceTer } from "../../eval/metrics/index.ts";

const HYPS = ["The dog bit the man.", "It wasn't surprising."];
// The second segment has one reference only (None in sacreBLEU): the signature says nrefs:var.
const REFS = [
  ["The dog bit the man.", "It was not unexpected."],
  ["The dog had bit the man.", null],
];

test("corpus scores with a variable number of references", () => {
  const bleu = corpusBleu(HYPS, REFS);
  assert.equal(bleu.name, "BLEU");
  assert.ok(Math.abs(bleu.score - 63.98166741645535) < 1e-9);
  assert.equal(bleu.signature, "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  assert.match(bleu.format(1), /^BLEU\|nrefs:var\|.* = 64\.0 /);
  const chrf = corpusChrf(HYPS, REFS);
  assert.equal(chrf.name, "chrF2");
  assert.ok(Math.abs(chrf.score - 58.47294992048422) < 1e-9);
  assert.equal(chrf.signature, "nrefs:var|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0");
  const ter = corpusTer(HYPS, REFS);
  assert.ok(Math.abs(ter.score - 31.57894736842105) < 1e-9);
  assert.equal(ter.format(2, { scoreOnly: true }), "31.58");
});

test("sentence scores (BLEU with effective order, as sacreBLEU's sentence_bleu)", () => {
  const refs = ["It was not surprising."];
  assert.ok(Math.abs(sentenceBleu(HYPS[1] as string, refs).score - 27.534765745159184) < 1e-9);
  assert.ok(Math.abs(sentenceChrf(HYPS[1] as string, refs).score - 77.4646993300244) < 1e-9);
  assert.equal(sentenceTer(HYPS[1] as string, refs).score, 50);
});

test("mismatched reference streams are rejected with the counts", () => {
  assert.throws(() => corpusBleu(HYPS, [["only one"]]), /reference stream 1 has 1 segments but there are 2 hypotheses/);
});
