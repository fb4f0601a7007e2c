// `nast corpus synth` end to end with the real engines (espeak-ng, festival, flite), apertium and sox.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { nast, readWav16, rms } from "./helpers.ts";

const work = mkdtempSync(join(tmpdir(), "nast-corpus-test-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const args = (out: string, seed = 7) => [
  "corpus", "synth", "-o", out, "--hours", "0.02", "--seed", String(seed), "--jobs", "2",
  "--engines", "espeak,flite", "--holdout-engine", "festival",
];

interface Segment { duration: number; offset: number; speaker_id: string; wav: string }

function readSplit(root: string, split: string) {
  const txt = join(root, "en-es", "data", split, "txt");
  const lines = (f: string) => readFileSync(join(txt, f), "utf8").replace(/\n$/, "").split("\n");
  const yamlText = readFileSync(join(txt, `${split}.yaml`), "utf8");
  return { yaml: YAML.parse(yamlText) as Segment[], yamlText, en: lines(`${split}.en`), es: lines(`${split}.es`) };
}

const first = join(work, "a");
const run1 = nast(args(first));

test("synth writes a valid MuST-C layout", () => {
  assert.equal(run1.code, 0, run1.stderr);
  assert.match(run1.stderr, /synthesized [\d.]+ h of speech .* real time/);
  const splits = readdirSync(join(first, "en-es", "data")).sort();
  assert.deepEqual(splits, ["dev", "train", "tst-COMMON", "tst-HELDOUT"]);
  let trainSeconds = 0;
  for (const split of splits) {
    const { yaml, yamlText, en, es } = readSplit(first, split);
    assert.ok(yaml.length >= 3, `${split}: ${yaml.length} segments`);
    assert.equal(en.length, yaml.length, `${split}: .en lines vs yaml`);
    assert.equal(es.length, yaml.length, `${split}: .es lines vs yaml`);
    // MuST-C v1.0's exact line format, 6 decimals.
    for (const line of yamlText.trim().split("\n")) {
      assert.match(line, /^- \{duration: \d+\.\d{6}, offset: \d+\.\d{6}, speaker_id: spk\.\d+, wav: ted_\d+\.wav\}$/);
    }
    for (const t of es) assert.ok(t.trim().length > 0 && !/(^|\s)[*#@]\p{L}/u.test(t), `translation '${t}'`);
    const byWav = new Map<string, Segment[]>();
    for (const s of yaml) byWav.set(s.wav, [...(byWav.get(s.wav) ?? []), s]);
    for (const [wav, segs] of byWav) {
      assert.equal(new Set(segs.map((s) => s.speaker_id)).size, 1, `${wav}: one speaker per talk`);
      const w = readWav16(join(first, "en-es", "data", split, "wav", wav));
      assert.deepEqual([w.rate, w.channels, w.bits], [16000, 1, 16], wav);
      const seconds = w.samples.length / 16000;
      let prevEnd = 0;
      for (const s of segs) {
        assert.ok(s.offset >= prevEnd && s.duration > 0.3 && s.offset + s.duration <= seconds + 1e-6, `${wav} ${s.offset}+${s.duration} in ${seconds}`);
        const a = Math.round(s.offset * 16000);
        const b = Math.round((s.offset + s.duration) * 16000);
        assert.ok(rms(w.samples, a, b) > 300, `${wav} segment at ${s.offset} is silent (rms ${rms(w.samples, a, b)})`);
        // Non-augmented splits: the pause before a segment is (near) silence, so pauses are where talks can be cut.
        if (split !== "train" && a - prevEnd * 16000 > 800) {
          assert.ok(rms(w.samples, Math.round(prevEnd * 16000), a) < 30, `${wav}: pause before ${s.offset} not silent`);
        }
        prevEnd = s.offset + s.duration;
      }
      if (split === "train") trainSeconds += seconds;
    }
  }
  assert.ok(trainSeconds > 30 && trainSeconds < 120, `train ${trainSeconds} s for --hours 0.02`);
});

test("train, dev and tst-COMMON sentences are disjoint; tst-HELDOUT speaks tst-COMMON with the held-out engine", () => {
  const sets = ["train", "dev", "tst-COMMON"].map((s) => new Set(readSplit(first, s).en));
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      for (const s of sets[i]!) assert.ok(!sets[j]!.has(s), `'${s}' in two splits`);
    }
  }
  assert.deepEqual(readSplit(first, "tst-HELDOUT").en, readSplit(first, "tst-COMMON").en);
  const speakers = readFileSync(join(first, "en-es", "speakers.tsv"), "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
  for (const row of speakers) {
    if (row[1] === "tst-HELDOUT") assert.equal(row[3], "festival");
    else assert.notEqual(row[3], "festival", `${row[0]} (${row[1]}) uses the held-out engine`);
  }
});

test("same seed, same corpus (text and audio); another seed, other sentences", () => {
  const second = join(work, "b");
  const r = nast(args(second));
  assert.equal(r.code, 0, r.stderr);
  for (const split of ["train", "dev", "tst-COMMON", "tst-HELDOUT"]) {
    for (const f of [`${split}.yaml`, `${split}.en`, `${split}.es`]) {
      assert.equal(readFileSync(join(second, "en-es/data", split, "txt", f), "utf8"), readFileSync(join(first, "en-es/data", split, "txt", f), "utf8"), f);
    }
    const wavDir = join(first, "en-es/data", split, "wav");
    for (const w of readdirSync(wavDir)) {
      assert.ok(readFileSync(join(wavDir, w)).equals(readFileSync(join(second, "en-es/data", split, "wav", w))), `${split}/${w} differs`);
    }
  }
  const other = join(work, "c");
  const r3 = nast(args(other, 8));
  assert.equal(r3.code, 0, r3.stderr);
  assert.notDeepEqual(readSplit(other, "train").en, readSplit(first, "train").en);
});

test("a killed run resumes: missing talks are made again, identical; another plan in the same folder is refused", () => {
  const dir = join(work, "b");
  const wavDir = join(dir, "en-es/data/train/wav");
  const victim = readdirSync(wavDir)[0]!;
  const before = readFileSync(join(wavDir, victim));
  rmSync(join(wavDir, victim));
  rmSync(join(dir, "en-es/data/train/txt/train.yaml"));
  const r = nast(args(dir));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /talks were already done/);
  assert.ok(readFileSync(join(wavDir, victim)).equals(before));
  assert.ok(existsSync(join(dir, "en-es/data/train/txt/train.yaml")));
  const clash = nast(args(dir, 99));
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /made with other sentences or options/);
});

test("bad --text input gives a clear error naming the file", () => {
  const empty = join(work, "empty.txt");
  writeFileSync(empty, "");
  const r1 = nast(["corpus", "synth", "-o", join(work, "x"), "--text", empty]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, new RegExp(`${empty.replace(/[.]/g, "\\.")}: is empty`));
  const latin1 = join(work, "latin1.txt");
  writeFileSync(latin1, Buffer.concat([Buffer.from("A fine first sentence here.\n"), Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6c, 0xe9, 0x0a])]));
  const r2 = nast(["corpus", "synth", "-o", join(work, "y"), "--text", latin1]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /latin1\.txt: is not valid UTF-8 \(first bad byte on line 2\)/);
  const junk = join(work, "junk.txt");
  writeFileSync(junk, "#!/bin/sh\nx=1\n{ }\n");
  const r3 = nast(["corpus", "synth", "-o", join(work, "z"), "--text", junk]);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /junk\.txt: holds no usable English sentence/);
  const missing = nast(["corpus", "synth", "-o", join(work, "w"), "--text", join(work, "nope.txt")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.txt: cannot read/);
  const badFlag = nast(["corpus", "synth", "-o", join(work, "v"), "--hours", "lots"]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--hours must be a number/);
});

test("a --text file is used, and too little text is an error, not a tiny broken corpus", () => {
  const text = join(work, "mine.txt");
  const lines = Array.from({ length: 30 }, (_, i) => `The number ${i + 1} is written on the ${i % 2 ? "red" : "blue"} door of house ${i + 1}.`);
  writeFileSync(text, lines.join("\n") + "\n");
  const out = join(work, "mine");
  const r = nast(["corpus", "synth", "-o", out, "--text", text, "--hours", "0.01", "--engines", "espeak", "--jobs", "2"]);
  assert.equal(r.code, 0, r.stderr);
  const all = ["train", "dev", "tst-COMMON"].flatMap((s) => readSplit(out, s).en);
  for (const s of all) assert.ok(lines.includes(s), `'${s}' not from the file`);
  writeFileSync(text, "Only one sentence is here.\n");
  const r2 = nast(["corpus", "synth", "-o", join(work, "mine2"), "--text", text]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /only 1 sentences/);
});

test("--shard: shards make disjoint talks and no text; the last run writes a corpus identical to an unsharded one", () => {
  const dir = join(work, "sharded");
  const s0 = nast([...args(dir), "--shard", "0/2"]);
  assert.equal(s0.code, 0, s0.stderr);
  assert.ok(!existsSync(join(dir, "en-es/data/train/txt/train.yaml")));
  const s1 = nast([...args(dir), "--shard", "1/2"]);
  assert.equal(s1.code, 0, s1.stderr);
  const made = (r: { stderr: string }) => Number(/synthesized [\d.]+ h of speech in (\d+) talks/.exec(r.stderr)![1]);
  const talks = ["train", "dev", "tst-COMMON", "tst-HELDOUT"].reduce((n, s) => n + readdirSync(join(first, "en-es/data", s, "wav")).length, 0);
  assert.equal(made(s0) + made(s1), talks);
  const last = nast(args(dir));
  assert.equal(last.code, 0, last.stderr);
  assert.equal(made(last), 0);
  for (const split of ["train", "dev", "tst-COMMON", "tst-HELDOUT"]) {
    assert.equal(readSplit(dir, split).yamlText, readSplit(first, split).yamlText, split);
    for (const w of readdirSync(join(first, "en-es/data", split, "wav"))) {
      assert.ok(readFileSync(join(dir, "en-es/data", split, "wav", w)).equals(readFileSync(join(first, "en-es/data", split, "wav", w))), `${split}/${w}`);
    }
  }
  assert.equal(nast([...args(dir), "--shard", "2/2"]).code, 2);
});

test("nast prep reads the synthetic corpus, every split, without dropping a segment", () => {
  const out = join(work, "prep");
  const r = nast(["prep", "--mustc", first, "--pair", "en-es", "-o", out, "--vocab", "60", "--splits", "train,dev,tst-COMMON,tst-HELDOUT", "--jobs", "2"]);
  assert.equal(r.code, 0, r.stderr);
  for (const split of ["train", "dev", "tst-COMMON", "tst-HELDOUT"]) {
    const n = readSplit(first, split).yaml.length;
    assert.match(r.stdout + r.stderr, new RegExp(`${split}: ${n} utterances, [\\d.]+ min; filtered 0 < min frames, 0 > max frames, 0 empty targets`));
  }
});
