// `nast prep` end to end on a tiny espeak-ng corpus in MuST-C layout: the stores hold exactly the
// fbank of fairseq's audio slices, fairseq ids and order, the reference filtering, token ids of the
// trained SentencePiece model; bad talks fail alone; a killed run resumes to the same result.
import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeAudio } from "../../src/audio/decode.ts";
import { fbank } from "../../src/audio/fbank.ts";
import { openFeatureStore, STORE_MARKER } from "../../src/data/feature-store.ts";
import { halfTable, toHalfBits } from "../../src/formats/float16.ts";
import { readMustcSplit } from "../../src/data/mustc.ts";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { BLANK_ID } from "../../src/text/sentencepiece-codec.ts";
import { makeTinyMustc, TINY_TALKS, type TinySegment } from "./tiny-mustc.ts";
import { runNast, startNast, type CliRun } from "../helpers/cli.ts";


function prep(args: string[]): CliRun {
  return runNast(["prep", ...args]);
}

function logEvents(dir: string, event: string): Record<string, unknown>[] {
  return readFileSync(join(dir, "prep.log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === event);
}

describe("nast prep", () => {
  let root = "";
  let out = "";
  const cleanup: string[] = [];
  before(async () => {
    root = await makeTinyMustc();
    out = join(root, "out-fp32");
    cleanup.push(root);
  });
  after(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test("builds spm.model and stores: fairseq ids, filtering, token ids, exact fbank of the slices", async () => {
    const r = prep(["--mustc", root, "--pair", "en-es", "-o", out, "--vocab", "60", "--splits", "train,dev", "--jobs", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /train: 5 utterances.*filtered 1 < min frames, 0 > max frames, 1 empty targets/);

    const spm = SentencePiece.load(join(out, "spm.model"));
    assert.equal(spm.idToPiece(BLANK_ID), "<s>");
    assert.deepEqual([1, 2, 3].map((i) => spm.idToPiece(i)), ["<pad>", "</s>", "<unk>"]);

    const train = openFeatureStore(join(out, "train"));
    assert.equal(train.size, 5);
    // ted_1 segment 2 (30 ms) and 3 (empty translation) are filtered; order and ids as fairseq.
    assert.deepEqual(Array.from({ length: train.size }, (_, i) => train.meta(i).id), ["ted_1_0", "ted_1_1", "ted_1_4", "ted_2_0", "ted_2_1"]);
    const split = readMustcSplit(root, "en-es", "train");
    for (let i = 0; i < train.size; i++) {
      const m = train.meta(i);
      const seg = split.segments.find((s) => s.id === m.id)!;
      assert.equal(m.src, seg.src);
      assert.equal(m.tgt, seg.tgt);
      assert.equal(m.talk, seg.talk);
      assert.equal(m.offset, seg.offset);
      assert.equal(m.duration, seg.duration);
      assert.equal(m.speaker, seg.speaker);
      assert.deepEqual(m.tgtIds, spm.encode(m.tgt));
      assert.deepEqual(m.srcIds, spm.encode(m.src));
      assert.ok(!m.tgtIds.includes(BLANK_ID));
      assert.equal(spm.decode(m.tgtIds), m.tgt);

      const audio = await decodeAudio(seg.wav);
      const expected = fbank(audio.samples.subarray(seg.startSample, seg.startSample + seg.numSamples));
      const item = train.item(i);
      assert.equal(item.id, m.id);
      assert.equal(item.frames, expected.frames);
      assert.equal(m.frames, expected.frames);
      assert.deepEqual(item.feats, expected.data);
    }
    assert.deepEqual(train.frames(), Array.from({ length: train.size }, (_, i) => train.meta(i).frames));
    assert.throws(() => train.item(5), RangeError);
    train.close();
    assert.equal(openFeatureStore(join(out, "dev")).size, 3);
    // Shards are removed once a split is complete.
    assert.equal(existsSync(join(out, "train", "shards")), false);
  });

  test("--fp16 holds the float32 features rounded to half; --jobs 1 and 2 agree byte for byte", () => {
    const out16 = join(root, "out-fp16");
    const r = prep(["--mustc", root, "--pair", "en-es", "-o", out16, "--spm", join(out, "spm.model"), "--splits", "train", "--fp16", "--jobs", "1"]);
    assert.equal(r.code, 0, r.stderr);
    const s32 = openFeatureStore(join(out, "train"));
    const s16 = openFeatureStore(join(out16, "train"));
    assert.equal(s16.dtype, "float16");
    const table = halfTable();
    for (let i = 0; i < s32.size; i++) {
      const a = s32.item(i).feats;
      const b = s16.item(i).feats;
      assert.equal(a.length, b.length);
      for (let j = 0; j < a.length; j++) assert.equal(b[j], table[toHalfBits(a[j]!)]);
    }
    const out1 = join(root, "out-jobs1");
    assert.equal(prep(["--mustc", root, "--pair", "en-es", "-o", out1, "--spm", join(out, "spm.model"), "--splits", "train", "--jobs", "1"]).code, 0);
    assert.deepEqual(readFileSync(join(out1, "train", "feats.bin")), readFileSync(join(out, "train", "feats.bin")));
    assert.deepEqual(readFileSync(join(out1, "train", "index.json")), readFileSync(join(out, "train", "index.json")));
  });

  test("a bad wav and a missing wav fail alone, named; the re-run after the fix redoes only them", () => {
    const bad = join(root, "bad");
    copyTree(join(root, "en-es"), join(bad, "en-es"));
    const ted2 = join(bad, "en-es", "data", "train", "wav", "ted_2.wav");
    const ted3 = join(bad, "en-es", "data", "dev", "wav", "ted_3.wav");
    writeFileSync(ted2, Buffer.from("RIFF\x10\x00\x00\x00WAVEfmt garbage, not audio"));
    rmSync(ted3);
    const o = join(root, "out-bad");
    const r = prep(["--mustc", bad, "--pair", "en-es", "-o", o, "--spm", join(out, "spm.model"), "--splits", "train,dev", "--jobs", "2"]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(ted2), r.stderr);
    assert.ok(r.stderr.includes(ted3), r.stderr);
    assert.match(r.stderr, /no such file/);
    // The good talks are prepared and usable; the marker lists the failed talk.
    const train = openFeatureStore(join(o, "train"));
    assert.deepEqual(Array.from({ length: train.size }, (_, i) => train.meta(i).talk), ["ted_1", "ted_1", "ted_1"]);
    assert.deepEqual(train.marker.failedTalks, ["ted_2"]);
    assert.equal(openFeatureStore(join(o, "dev")).size, 2);

    copyFileSync(join(root, "en-es", "data", "train", "wav", "ted_2.wav"), ted2);
    copyFileSync(join(root, "en-es", "data", "dev", "wav", "ted_3.wav"), ted3);
    rmSync(join(o, "prep.log.jsonl"));
    const again = prep(["--mustc", bad, "--pair", "en-es", "-o", o, "--spm", join(out, "spm.model"), "--splits", "train,dev", "--jobs", "2"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(logEvents(o, "talk_done").map((e) => e.talk).sort(), ["ted_2", "ted_3"]);
    assert.deepEqual(readFileSync(join(o, "train", "feats.bin")), readFileSync(join(out, "train", "feats.bin")));
  });

  test("a killed run resumes to the same store; half-written shards are not taken as done", async () => {
    const talks: Record<string, Record<string, TinySegment[]>> = { train: {} };
    const sentences = Object.values(TINY_TALKS.train!).flat().filter((s) => s.es && !s.duration);
    for (let t = 1; t <= 8; t++) talks.train![`ted_${t}`] = [...sentences, ...sentences];
    const big = await makeTinyMustc(talks);
    cleanup.push(big);
    const clean = join(big, "clean");
    assert.equal(prep(["--mustc", big, "--pair", "en-es", "-o", clean, "--spm", join(out, "spm.model"), "--splits", "train", "--jobs", "1"]).code, 0);

    const o = join(big, "killed");
    const child = startNast(["prep", "--mustc", big, "--pair", "en-es", "-o", o, "--spm", join(out, "spm.model"), "--splits", "train", "--jobs", "1"], { stdio: "ignore" });
    const log = join(o, "prep.log.jsonl");
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(log) && readFileSync(log, "utf8").includes('"talk_done"')) {
          child.kill("SIGKILL");
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    await new Promise((resolve) => child.on("exit", resolve));
    assert.equal(existsSync(join(o, "train", STORE_MARKER)), false, "killed before the end");
    assert.throws(() => openFeatureStore(join(o, "train")), /not a finished feature store/);
    const shardDir = join(o, "train", "shards");
    const done = readdirSync(shardDir).filter((f) => f.endsWith(".json")).length;
    assert.ok(done >= 1 && done < 8, `${done} talks done at the kill`);
    // Simulate a kill in the middle of a shard: an orphan .bin without its .json, and a temp file.
    writeFileSync(join(shardDir, "ted_8.bin"), Buffer.alloc(1000, 7));
    writeFileSync(join(shardDir, ".ted_8.bin.tmp-1-x"), Buffer.alloc(10));
    rmSync(log);
    const r = prep(["--mustc", big, "--pair", "en-es", "-o", o, "--spm", join(out, "spm.model"), "--splits", "train", "--jobs", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resuming/);
    assert.equal(logEvents(o, "talk_done").length, 8 - done);
    assert.deepEqual(readFileSync(join(o, "train", "feats.bin")), readFileSync(join(clean, "train", "feats.bin")));
    assert.deepEqual(readFileSync(join(o, "train", "index.json")), readFileSync(join(clean, "train", "index.json")));
    // A complete split is skipped on the next run.
    const skip = prep(["--mustc", big, "--pair", "en-es", "-o", o, "--spm", join(out, "spm.model"), "--splits", "train"]);
    assert.equal(skip.code, 0);
    assert.match(skip.stdout, /already prepared/);
  });

  test("bad inputs of the whole split and bad flags are reported", () => {
    const bad = join(root, "bad-split");
    copyTree(join(root, "en-es"), join(bad, "en-es"));
    const en = join(bad, "en-es", "data", "dev", "txt", "dev.en");
    writeFileSync(en, readFileSync(en, "utf8").split("\n").slice(0, 2).join("\n") + "\n");
    const r = prep(["--mustc", bad, "--pair", "en-es", "-o", join(root, "out-bad-split"), "--vocab", "60", "--splits", "train,dev"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dev\.yaml: has 3 segments but .*dev\.en has 2 lines/);
    assert.match(r.stdout, /train: 5 utterances/);
    const usage = prep(["--mustc", root, "--pair", "en-es"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /-o are required/);
    assert.equal(prep(["--mustc", root, "--pair", "en-es", "-o", join(root, "x"), "--jobs", "zero"]).code, 2);
    // Resuming into a directory whose spm.model was trained for another size is refused.
    const other = prep(["--mustc", root, "--pair", "en-es", "-o", out, "--vocab", "70", "--splits", "dev"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /spm\.model: was trained for --vocab 60, not 70/);
  });
});

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(join(from, e.name), join(to, e.name));
    else copyFileSync(join(from, e.name), join(to, e.name));
  }
}
