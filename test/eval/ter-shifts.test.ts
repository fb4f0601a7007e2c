// TER's shift search on long, repetitive sentences, where lib_ter.py's limits decide the result: more than
// 1000 shift candidates (the search stops, even before applying a found shift), shifts of up to 10 words
// within 50 positions, and a beam that widens for very different lengths. Expected values from the real
// sacreBLEU 2.6.0 (fixtures/sacrebleu-2.6.0-ter-shifts.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { corpusTer, translationEditRate } from "../../eval/metrics/index.ts";

const cases: { hyp: string; ref: string; num_edits: number; ref_length: number; score: number }[] = JSON.parse(
  readFileSync(new URL("./fixtures/sacrebleu-2.6.0-ter-shifts.json", import.meta.url), "utf8"),
);

test("edit counts equal sacreBLEU's where shift limits and beam widening apply", () => {
  assert.equal(cases.length, 10);
  for (const c of cases) {
    const r = translationEditRate(c.hyp.split(" "), c.ref.split(" "));
    assert.deepEqual([r.edits, r.refLength], [c.num_edits, c.ref_length], `${c.hyp.slice(0, 40)}…`);
    const s = corpusTer([c.hyp], [[c.ref]]);
    assert.ok(Math.abs(s.score - c.score) < 1e-9);
  }
});

test("a shifted block costs one edit", () => {
  // "d e a b c" → "a b c d e": moving "d e" to the end is a single shift
  assert.equal(translationEditRate("d e a b c".split(" "), "a b c d e".split(" ")).edits, 1);
  assert.equal(translationEditRate([], "a b".split(" ")).edits, 2);
  assert.deepEqual(translationEditRate(["a"], []), { edits: 1, refLength: 0 });
});

test("references are tokenized twice, as in sacreBLEU 2.6.0 (visible with --ter-normalized)", () => {
  // Values printed by sacreBLEU 2.6.0: TER(normalized=True).corpus_score(...) → score, num_edits, ref_length.
  // "&amp;lt;" unescapes twice to "<", so the reference has 3 words, not 4.
  const a = corpusTer(["a b c"], [["x &amp;lt; y"]], { normalized: true });
  assert.deepEqual([a.score, a.numEdits, a.refLength], [100, 3, 3]);
  // "haben's's" → "haben's 's" → "haben 's 's" in the second reference: average length 11.5, not 11.
  const b = corpusTer(
    ["Wir haben's geschafft, oder nicht?", "Er hat's."],
    [
      ["Wir haben's geschafft, oder nicht?", "Er hat's's."],
      ["Wir haben's's geschafft, Wir oder", "Er hat's"],
    ],
    { normalized: true },
  );
  assert.deepEqual([b.numEdits, b.refLength], [1, 11.5]);
  assert.ok(Math.abs(b.score - 8.695652173913043) < 1e-12);
});
