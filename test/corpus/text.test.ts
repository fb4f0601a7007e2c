// Sentence cleaning, the Debian text sources, apertium batching and the corpus TSV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanSentence, dedupe, splitSentences } from "../../src/corpus/sentences.ts";
import { apertiumBatch, stripApertiumMarks } from "../../src/corpus/translate.ts";
import { readCorpusTsv, selectSentences, writeCorpusTsv } from "../../src/corpus/corpus-text.ts";
import { wordnetPools } from "../../src/corpus/text-sources.ts";

const work = mkdtempSync(join(tmpdir(), "nast-corpus-text-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

test("sentence splitting keeps abbreviations and initials inside sentences", () => {
  assert.deepEqual(splitSentences("Dr. Smith met Mr. J. Jones at 5 p.m. today. They talked! Did they agree? \"Yes.\" Then they left."), [
    "Dr. Smith met Mr. J. Jones at 5 p.m. today.",
    "They talked!",
    "Did they agree?",
    '"Yes."',
    "Then they left.",
  ]);
});

test("cleaning normalises punctuation and rejects what TTS or apertium would mangle", () => {
  assert.equal(cleanSentence("\u201cit was full of rackets\u201d \u2014 and balls"), '"It was full of rackets", and balls.');
  assert.equal(cleanSentence("a tangible entity (living or not) that can cast a shadow"), "A tangible entity that can cast a shadow.");
  assert.equal(cleanSentence('He said "stop it and go home'), "He said stop it and go home.");
  assert.equal(cleanSentence("Too short."), undefined);
  assert.equal(cleanSentence(Array.from({ length: 31 }, () => "word").join(" ")), undefined);
  assert.equal(cleanSentence("Use rm -rf /tmp/x with care now"), undefined);
  assert.equal(cleanSentence("Version 2.0b3 was released yesterday"), undefined);
  assert.equal(cleanSentence("THIS IS ALL IN CAPITALS"), undefined);
  assert.equal(cleanSentence("Caf\u00e9 au lait is served here"), undefined);
  assert.equal(cleanSentence("Wow!!!! That was great fun"), undefined);
  assert.deepEqual(dedupe(["The cat sat.", "the cat, sat!", "A dog ran."]), ["The cat sat.", "A dog ran."]);
});

test("WordNet gives example sentences and glosses (wordnet-base data.* format)", () => {
  writeFileSync(
    join(work, "data.noun"),
    "  1 This software and database is being provided to you\n" +
      '00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known to have its own existence; "the entity sat on the chair"; "ok"  \n',
  );
  const [examples, glosses] = wordnetPools(work);
  assert.deepEqual(examples!.sentences, ["The entity sat on the chair."]);
  assert.deepEqual(glosses!.sentences, ["That which is perceived or known to have its own existence."]);
});

test("apertium batches keep one translation per sentence, even where apertium would move words across lines", async () => {
  // Sent as plain lines, apertium returns "...en el Dr." / "mate Smith ...": the markers must prevent it.
  const out = await apertiumBatch(["The cat sat on the mat", "Dr. Smith went to Washington.", "I have a xyzzyq foo.", "-- dashes -- and \"quotes\"."]);
  assert.equal(out.length, 4);
  assert.match(out[0]!, /^El gato .*estera$/);
  assert.match(out[1]!, /^Dr\. Smith fue a Washington\.$/);
  assert.match(out[2]!, /xyzzyq/);
  assert.doesNotMatch(out.join(" "), /[*#@]\p{L}/u);
  assert.equal(stripApertiumMarks("Tengo un *xyzzyq #fue @perro, ok"), "Tengo un xyzzyq fue perro, ok");
  assert.equal(stripApertiumMarks("correo a@b.com"), "correo a@b.com");
});

test("sentence selection: deterministic, disjoint splits, sized by count", () => {
  const pool = { source: "t", kind: "sentence" as const, sentences: Array.from({ length: 200 }, (_, i) => `Sentence number ${i} is here.`) };
  const a = selectSentences([pool], { seed: 3, count: 100 });
  const b = selectSentences([pool], { seed: 3, count: 100 });
  assert.deepEqual(a, b);
  assert.equal(a.length, 100);
  const count = (s: string) => a.filter((x) => x.split === s).length;
  assert.deepEqual([count("tst-COMMON"), count("dev"), count("train")], [4, 4, 92]);
  assert.notDeepEqual(selectSentences([pool], { seed: 4, count: 100 }), a);
});

test("the corpus TSV round-trips and a malformed line is named", () => {
  const path = join(work, "c.tsv");
  const entries = [
    { id: 0, split: "train" as const, en: "A cat.", tgt: "Un gato." },
    { id: 1, split: "tst-COMMON" as const, en: "Two dogs.", tgt: "Dos perros." },
  ];
  writeCorpusTsv(path, "en-es", entries);
  assert.deepEqual(readCorpusTsv(path), { pair: "en-es", entries });
  writeFileSync(path, "id\tsplit\ten\tes\n0\ttrain\tA cat.\tUn gato.\n1\tvalid\tX y z.\tX y z.\n");
  assert.throws(() => readCorpusTsv(path), /c\.tsv: line 3: expected id, split/);
  writeFileSync(path, "hello\n");
  assert.throws(() => readCorpusTsv(path), /c\.tsv: line 1: expected the header/);
});
