// The MuST-C reader on hand-written splits: fairseq ids and order, sample positions, and the errors
// for malformed YAML, mismatched line counts and non-UTF-8 text (each naming the file and line).
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readMustcSplit, segmentSamples } from "../../src/data/mustc.ts";

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function split(yaml: string, en: string | Buffer, es: string | Buffer, name = "dev"): string {
  const root = mkdtempSync(join(tmpdir(), "nast-mustc-"));
  roots.push(root);
  const txt = join(root, "en-es", "data", name, "txt");
  mkdirSync(txt, { recursive: true });
  writeFileSync(join(txt, `${name}.yaml`), yaml);
  writeFileSync(join(txt, `${name}.en`), en);
  writeFileSync(join(txt, `${name}.es`), es);
  return root;
}

const YAML = [
  "- {duration: 2.500000, offset: 9.500000, rW: 5, uW: 0, speaker_id: spk.1, wav: ted_1.wav}",
  "- {duration: 1.250000, offset: 12.000000, rW: 3, uW: 0, speaker_id: spk.1, wav: ted_1.wav}",
  "- {duration: 3.000000, offset: 100.100000, rW: 4, uW: 0, speaker_id: spk.1, wav: ted_1.wav}",
  "- {duration: 0.333333, offset: 0.500000, speaker_id: spk.2, wav: ted_2.wav}",
].join("\n") + "\n";

test("segments, fairseq ids (string sort of offsets within a talk) and sample positions", () => {
  const root = split(YAML, "a\nb\n  c  \nd\n", "A\nB\nC\nD\n");
  const s = readMustcSplit(root, "en-es", "dev");
  assert.equal(s.talks.length, 2);
  // "100.100000" < "12.000000" < "9.500000" as strings, as yaml.BaseLoader + sorted() gives.
  assert.deepEqual(s.segments.map((x) => [x.id, x.src, x.tgt, x.line]), [
    ["ted_1_0", "c", "C", 3],
    ["ted_1_1", "b", "B", 2],
    ["ted_1_2", "a", "A", 1],
    ["ted_2_0", "d", "D", 4],
  ]);
  const d = s.segments[3]!;
  assert.equal(d.startSample, 8000);
  assert.equal(d.numSamples, Math.trunc(0.333333 * 16000));
  assert.equal(d.speaker, "spk.2");
  assert.equal(d.wav, join(root, "en-es", "data", "dev", "wav", "ted_2.wav"));
  assert.equal(s.segments[0]!.startSample, Math.trunc(100.1 * 16000));
});

test("malformed YAML lines name file:line", () => {
  const bad = YAML.replace("- {duration: 1.250000, offset: 12.000000, rW: 3, uW: 0, speaker_id: spk.1, wav: ted_1.wav}", "- {duration 1.25, offset: 12.0, wav: ted_1.wav");
  const root = split(bad, "a\nb\nc\nd\n", "A\nB\nC\nD\n");
  assert.throws(() => readMustcSplit(root, "en-es", "dev"), (e: Error) => e.message.includes("dev.yaml:2") && /malformed/.test(e.message));
  const noWav = YAML.replace(", wav: ted_2.wav}", "}");
  assert.throws(() => readMustcSplit(split(noWav, "a\nb\nc\nd\n", "A\nB\nC\nD\n"), "en-es", "dev"), /dev\.yaml:4: segment has no wav/);
  const badNumber = YAML.replace("offset: 0.500000", "offset: half");
  assert.throws(() => readMustcSplit(split(badNumber, "a\nb\nc\nd\n", "A\nB\nC\nD\n"), "en-es", "dev"), /dev\.yaml:4: offset "half" is not/);
  const escape = YAML.replace("wav: ted_2.wav", "wav: ../../etc/passwd");
  assert.throws(() => readMustcSplit(split(escape, "a\nb\nc\nd\n", "A\nB\nC\nD\n"), "en-es", "dev"), /dev\.yaml:4: wav/);
});

test("a text file with fewer lines than segments names the files and counts", () => {
  const root = split(YAML, "a\nb\nc\n", "A\nB\nC\nD\n");
  assert.throws(
    () => readMustcSplit(root, "en-es", "dev"),
    (e: Error) => e.message.includes("dev.yaml: has 4 segments") && e.message.includes("dev.en has 3 lines") && e.message.includes("dev.es has 4 lines"),
  );
});

test("non-UTF-8 text names file:line and the byte", () => {
  const latin1 = Buffer.concat([Buffer.from("A\nB\nCaf"), Buffer.from([0xe9]), Buffer.from("\nD\n")]);
  const root = split(YAML, "a\nb\nc\nd\n", latin1);
  assert.throws(() => readMustcSplit(root, "en-es", "dev"), (e: Error) => e.message.includes("dev.es:3") && e.message.includes("0xe9") && /UTF-8/.test(e.message));
});

test("a missing text file or split is named", () => {
  const root = split(YAML, "a\nb\nc\nd\n", "A\nB\nC\nD\n");
  assert.throws(() => readMustcSplit(root, "en-es", "train"), (e: Error) => e.message.includes(join("train", "txt", "train.yaml")) && /no such file/.test(e.message));
  assert.throws(() => readMustcSplit(root, "english", "dev"), /not a language pair/);
});

test("a talk whose segments are not consecutive is refused (ids would repeat)", () => {
  const lines = YAML.trim().split("\n");
  const shuffled = [lines[0], lines[3], lines[1], lines[2]].join("\n") + "\n";
  const root = split(shuffled, "a\nb\nc\nd\n", "A\nB\nC\nD\n");
  assert.throws(() => readMustcSplit(root, "en-es", "dev"), /dev\.yaml:3: segments of ted_1\.wav resume/);
});

test("segment samples are cut like soundfile read(start, frames): short past the end", () => {
  const talk = Float32Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(Array.from(segmentSamples(talk, { startSample: 10, numSamples: 3 })), [10, 11, 12]);
  assert.deepEqual(Array.from(segmentSamples(talk, { startSample: 98, numSamples: 5 })), [98, 99]);
  assert.equal(segmentSamples(talk, { startSample: 150, numSamples: 5 }).length, 0);
});
