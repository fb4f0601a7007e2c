// `nast prep --targets FILE` (sequence-level knowledge distillation, docs/model.md §10.6): the train split's
// translations become the file's lines, one per YAML segment in its order, tokenised with the given SentencePiece
// model; the other splits keep their references; a file of the wrong length, or --targets without the train
// split, is refused by name.
import { strict as assert } from "node:assert";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openFeatureStore } from "../../src/data/feature-store.ts";
import { readMustcSplit } from "../../src/data/mustc.ts";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { makeTinyMustc } from "./tiny-mustc.ts";
import { runNast } from "../helpers/cli.ts";

let root: string;
before(async () => {
  root = await makeTinyMustc();
});
after(() => rmSync(root, { recursive: true, force: true }));

test("the train split trains on the given translations; dev keeps its references", () => {
  const base = join(root, "base");
  assert.equal(runNast(["prep", "--mustc", root, "--pair", "en-es", "-o", base, "--vocab", "60", "--splits", "train", "--jobs", "1"]).code, 0);
  const segments = readMustcSplit(root, "en-es", "train").segments;
  // A teacher's translations; the fourth segment's reference is empty, the teacher's is not.
  const teacher = segments.map((_, i) => `traducción ${i} de la gente`);
  const file = join(root, "hyp.es");
  writeFileSync(file, `${teacher.join("\n")}\n`);
  const kd = join(root, "kd");
  const r = runNast(["prep", "--mustc", root, "--pair", "en-es", "-o", kd, "--spm", join(base, "spm.model"), "--targets", file, "--splits", "train,dev", "--jobs", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const spm = SentencePiece.load(join(kd, "spm.model"));
  const train = openFeatureStore(join(kd, "train"));
  const ids = Array.from({ length: train.size }, (_, i) => train.meta(i).id);
  assert.deepEqual(ids, ["ted_1_0", "ted_1_1", "ted_1_3", "ted_1_4", "ted_2_0", "ted_2_1"], "the too-short segment still goes; the empty reference no longer filters");
  for (let i = 0; i < train.size; i++) {
    const m = train.meta(i);
    const k = segments.findIndex((s) => s.id === m.id);
    assert.equal(m.tgt, teacher[k]);
    assert.deepEqual(m.tgtIds, spm.encode(teacher[k]!));
    assert.equal(m.src, segments[k]!.src, "transcripts stay");
  }
  train.close();
  const dev = openFeatureStore(join(kd, "dev"));
  const devRefs = readMustcSplit(root, "en-es", "dev").segments.map((s) => s.tgt);
  assert.deepEqual(Array.from({ length: dev.size }, (_, i) => dev.meta(i).tgt), devRefs);
  dev.close();
});

test("a targets file of the wrong length, or without the train split, is refused by name", () => {
  const file = join(root, "short.es");
  writeFileSync(file, "uno\ndos\n");
  const r = runNast(["prep", "--mustc", root, "--pair", "en-es", "-o", join(root, "bad"), "--vocab", "60", "--targets", file, "--splits", "train", "--jobs", "1"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /short\.es: has 2 lines but the train split has 7 segments/);
  const u = runNast(["prep", "--mustc", root, "--pair", "en-es", "-o", join(root, "bad2"), "--targets", file, "--splits", "dev"]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--targets replaces the train split's translations: --splits must include train/);
});
