// WER/CER: edit counts checked by hand, and the documented normalization (13a tokens, punctuation-only
// tokens dropped, lowercase: fairseq's --wer-tokenizer 13a --wer-lowercase --wer-remove-punct).
import assert from "node:assert/strict";
import { test } from "node:test";
import { cer, editCounts, wer, werWords } from "../../eval/metrics/index.ts";

test("normalization keeps words with inner punctuation and drops punctuation tokens", () => {
  assert.deepEqual(werWords("Well, it's a well-known fact — isn't it? ¿Sí?"), ["well", "it's", "a", "well-known", "fact", "isn't", "it", "¿sí"]);
  assert.deepEqual(werWords("&quot;Hello&quot; World..."), ["hello", "world"]);
  assert.deepEqual(werWords(""), []);
});

test("substitutions, deletions and insertions", () => {
  // ref: a b c d ; hyp: a x c d e → 1 substitution (b→x), 1 insertion (e)
  assert.deepEqual(editCounts(["a", "b", "c", "d"], ["a", "x", "c", "d", "e"]), { substitutions: 1, deletions: 0, insertions: 1, hits: 3 });
  // ref: a b c ; hyp: c → 2 deletions
  assert.deepEqual(editCounts(["a", "b", "c"], ["c"]), { substitutions: 0, deletions: 2, insertions: 0, hits: 1 });
  assert.deepEqual(editCounts([], ["a"]), { substitutions: 0, deletions: 0, insertions: 1, hits: 0 });
});

test("corpus WER sums edits and reference words over segments", () => {
  const r = wer(["The cat sat on the mat.", "Hello there"], ["the cat sat on a mat", "hello"]);
  // segment 1: "the"→"a" is one substitution over 6 words; segment 2: one insertion over 1 word
  assert.equal(r.substitutions, 1);
  assert.equal(r.insertions, 1);
  assert.equal(r.deletions, 0);
  assert.equal(r.refWords, 7);
  assert.equal(r.hypWords, 8);
  assert.ok(Math.abs(r.wer - (100 * 2) / 7) < 1e-12);
  assert.equal(wer([""], [""]).wer, 0);
  assert.equal(wer(["x"], [""]).wer, 100);
  assert.throws(() => wer(["a"], ["a", "b"]), /1 hypotheses but 2 references/);
});

test("CER over code points of the normalized text, spaces included", () => {
  const r = cer(["Straße!"], ["strasse"]);
  // straße vs strasse: ß→s substitution + one insertion of s... counted over 7 reference characters
  assert.equal(r.refChars, 7);
  assert.equal(r.substitutions + r.deletions + r.insertions, 2);
  assert.ok(Math.abs(r.cer - (100 * 2) / 7) < 1e-12);
  assert.equal(cer(["a😀b"], ["a😀b"]).cer, 0);
  assert.equal(cer(["ab cd"], ["abcd"]).insertions, 1);
});
