// `nast corpus synth --augment LIST --aug-assets KIT` end to end, with a small kit made here (the real
// kit's Debian packages are not on every machine): the plan lands in speakers.tsv, the kit's files are
// used, dev/test audio is byte-identical to an unaugmented run, and a bad --augment is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nast } from "./helpers.ts";
import { wavBytes } from "../../src/corpus/effects.ts";
import { shapeImpulseResponse } from "../../src/corpus/assets.ts";
import { onsetIndex } from "../../src/corpus/augment.ts";
import { Rng } from "../../src/corpus/rng.ts";

const work = mkdtempSync(join(tmpdir(), "nast-augment-synth-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function makeKit(dir: string): void {
  const rng = new Rng(1);
  for (const k of ["rir", "noise", "music", "babble"]) mkdirSync(join(dir, k), { recursive: true });
  const rir = Float32Array.from({ length: 4000 }, (_, i) => (i === 16 ? 1 : i > 16 ? rng.normal() * 0.2 * Math.exp(-i / 900) : 0));
  const clip = (f: number) => Float32Array.from({ length: 3 * 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * f * i) / 16000) + 0.05 * rng.normal());
  writeFileSync(join(dir, "rir/room.wav"), wavBytes(rir));
  writeFileSync(join(dir, "noise/hum.wav"), wavBytes(clip(100)));
  writeFileSync(join(dir, "music/tone.wav"), wavBytes(clip(440)));
  writeFileSync(join(dir, "babble/b.wav"), wavBytes(clip(230)));
  const rows = ["rir/room.wav\trir\t0.25", "noise/hum.wav\tnoise\t3", "music/tone.wav\tmusic\t3", "babble/b.wav\tbabble\t3"].map((r) => `${r}\ttest\tCC0-1.0\tnobody\tmade by the test`);
  writeFileSync(join(dir, "manifest.tsv"), ["file\tkind\tseconds\tpackage\tlicence\tcopyright\torigin", ...rows].join("\n") + "\n");
}

const args = (out: string, ...more: string[]) => ["corpus", "synth", "-o", out, "--hours", "0.03", "--seed", "21", "--jobs", "2", "--engines", "espeak", ...more];

test("synth with a kit: plans in speakers.tsv use its files, dev/test audio equals an unaugmented run's, train differs", () => {
  const kit = join(work, "kit");
  makeKit(kit);
  const aug = join(work, "aug");
  const r = nast(args(aug, "--augment", "reverb,additive", "--aug-assets", kit));
  assert.equal(r.code, 0, r.stderr);
  const plain = join(work, "plain");
  const p = nast(args(plain, "--no-augment"));
  assert.equal(p.code, 0, p.stderr);
  const rows = readFileSync(join(aug, "en-es/speakers.tsv"), "utf8").replace(/\n$/, "").split("\n").map((l) => l.split("\t"));
  const col = (name: string) => rows[0]!.indexOf(name);
  const train = rows.slice(1).filter((row) => row[1] === "train");
  assert.ok(train.length >= 3, `${train.length} train talks`);
  for (const row of rows.slice(1)) {
    assert.equal(row[col("speed")], "1", "speed is off");
    assert.equal(row[col("channel")], "", "codecs are off");
    assert.equal(row[col("fallback")], "", "the kit has every kind");
    if (row[1] !== "train") assert.deepEqual(row.slice(col("speed") + 1).join(""), "", `${row[1]} augmented`);
  }
  assert.ok(train.some((row) => /^(rir:rir\/room\.wav|room:)/.test(row[col("reverb")]!)), "no reverberation drawn");
  assert.ok(train.some((row) => /(noise|music|babble):/.test(row[col("additive")]!)), "no kit clip drawn");
  let differ = 0;
  for (const split of ["train", "dev", "tst-COMMON"]) {
    for (const w of readdirSync(join(plain, "en-es/data", split, "wav"))) {
      const same = readFileSync(join(plain, "en-es/data", split, "wav", w)).equals(readFileSync(join(aug, "en-es/data", split, "wav", w)));
      if (split === "train") differ += same ? 0 : 1;
      else assert.ok(same, `${split}/${w} differs from the unaugmented run`);
    }
    // Speed is off, so every segment keeps its time: the yaml files are the same.
    assert.equal(readFileSync(join(aug, "en-es/data", split, "txt", `${split}.yaml`), "utf8"), readFileSync(join(plain, "en-es/data", split, "txt", `${split}.yaml`), "utf8"));
  }
  assert.ok(differ > 0, "no train talk was changed by the augmentation");
});

test("--augment: an unknown kind is a usage error", () => {
  const bad = nast(args(join(work, "bad"), "--augment", "reverb,karaoke"));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown augmentation 'karaoke'/);
});

test("kit impulse responses: trimmed to 1 ms before the first arrival, peak 1, cut where 60 dB have decayed", () => {
  const rng = new Rng(2);
  const h = Float32Array.from({ length: 30000 }, (_, i) => (i < 500 ? 1e-5 * rng.normal() : i === 500 ? -1.5 : 0.1 * rng.normal() * Math.exp(-(i - 500) / 800)));
  const s = shapeImpulseResponse(h);
  assert.equal(onsetIndex(s), 16);
  assert.equal(Math.max(...s.map(Math.abs)), 1);
  // Energy decays as e^(-2t/800 samples): 60 dB after 800 ln(10^6) / 2 = 5526 samples.
  assert.ok(Math.abs(s.length - 16 - 5526) < 300, `${s.length} samples`);
});
