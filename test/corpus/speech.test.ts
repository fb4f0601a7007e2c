// The real-speech corpus (src/corpus/speech.ts, `nast corpus speech`): transcripts cleaned as written,
// whole speakers held out, talks of one speaker's clips decoded by the real opusdec, copies augmented,
// the result a MuST-C split that nast prep reads together with another corpus.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeAudio } from "../../src/audio/decode.ts";
import { readMustcSplit, readMustcSplits } from "../../src/data/mustc.ts";
import { openFeatureStore } from "../../src/data/feature-store.ts";
import {
  cleanTranscript,
  decodeOpus,
  heldOutSpeakers,
  isSpelling,
  planSpeechTalks,
  readSpeechTsv,
  realDevSplit,
  realUnseenSplit,
  speechPlan,
  speechText,
  writeSpeechCorpus,
  withUnseenSplit,
  writeSpeechTsv,
} from "../../src/corpus/speech.ts";
import { systemTools } from "../../src/corpus/tools.ts";
import { parseCopiesOf } from "../../src/cli/corpus-speech.ts";
import { augmentKinds, timeScale } from "../../src/corpus/augment.ts";
import { InputError } from "../../src/util/errors.ts";
import { makeTinyMustc } from "../data/tiny-mustc.ts";
import { nast } from "./helpers.ts";

describe("transcripts", () => {
  test("capitals become sentence case with final punctuation; spelling stays", () => {
    assert.equal(cleanTranscript("WE CALL IT BEAR"), "We call it bear.");
    assert.equal(cleanTranscript("I THINK I'M  A  GOOD MAN"), "I think I'm a good man.");
    assert.equal(cleanTranscript("not to stop more than ten minutes by the way,"), "Not to stop more than ten minutes by the way.");
    assert.equal(cleanTranscript("Is it?"), "Is it?");
    assert.equal(cleanTranscript("S A F F R O N R O B L E S"), "S A F F R O N R O B L E S.");
    assert.equal(cleanTranscript("48 Ridge Road 407"), "48 Ridge Road 407.");
    assert.equal(cleanTranscript("   "), "");
    assert.ok(isSpelling("S A F F R O N."));
    assert.ok(!isSpelling("I saw a man."));
    assert.ok(!isSpelling("A B testing."));
  });

  test("held-out speakers: whole speakers of corpora with 5 or more, seeded", () => {
    const clips = [
      ...Array.from({ length: 40 }, (_, i) => ({ corpus: "big", speaker: `s${i % 20}` })),
      ...Array.from({ length: 8 }, (_, i) => ({ corpus: "small", speaker: `t${i % 4}` })),
    ];
    const a = heldOutSpeakers(clips, 1);
    assert.equal(a.size, 1); // 5% of 20, the 4-speaker corpus trains only
    assert.ok([...a].every((k) => k.startsWith("big/")));
    assert.deepEqual([...heldOutSpeakers(clips, 1)], [...a]);
    assert.equal(heldOutSpeakers(clips, 1, 0.25).size, 5);
  });
});

test("dev-real-unseen: the held-out speakers' clips whose sentence train lacks, after the others, the others' talks unchanged", () => {
  const clip = (speaker: string, split: string, en: string, file: string) => ({ corpus: "c", file, seconds: 1, speaker, split, en, tgt: en });
  const clips = [
    clip("a", "train", "One.", "1.opus"), clip("a", "train", "Two.", "2.opus"), clip("b", "train", "Three.", "3.opus"),
    clip("d", realDevSplit, "Two.", "4.opus"), clip("d", realDevSplit, "Four.", "5.opus"), clip("d", realDevSplit, "Five.", "6.opus"),
  ];
  const all = withUnseenSplit(clips);
  assert.deepEqual(all.slice(0, clips.length), clips);
  assert.deepEqual(all.slice(clips.length).map((c) => [c.split, c.file]), [[realUnseenSplit, "5.opus"], [realUnseenSplit, "6.opus"]]);
  const before = planSpeechTalks(clips, { seed: 3, copies: 2 });
  const after = planSpeechTalks(all, { seed: 3, copies: 2 });
  assert.deepEqual(after.slice(0, before.length), before);
  const unseen = after.slice(before.length);
  assert.ok(unseen.length > 0 && unseen.every((t) => t.split === realUnseenSplit && t.copy === 0));
  assert.deepEqual(withUnseenSplit(clips.slice(0, 4)), clips.slice(0, 4), "no unseen sentence: nothing added");
});

describe("nast corpus speech", () => {
  let root = "";
  let from = "";
  const clipsOf: Record<string, number> = {};
  before(() => {
    root = mkdtempSync(join(tmpdir(), "nast-speech-"));
    from = join(root, "from");
    // Two sources: "many" has 6 speakers (one is held out), "one" a single reader (train only).
    const sentences = ["The cat sat on the mat.", "WE WALKED HOME", "Music makes people happy.", "S A M E", "Thank you very much."];
    const speakers: [string, string][] = [...Array.from({ length: 6 }, (_, i) => ["many", `spk${i}`] as [string, string]), ["one", "reader"]];
    for (const corpus of ["many", "one", "noise"]) mkdirSync(join(from, corpus), { recursive: true });
    const manifests: Record<string, string[]> = { many: ["file\tseconds\tspeaker\ttranscript"], one: ["file\tseconds\tspeaker\ttranscript"] };
    let n = 0;
    for (const [corpus, speaker] of speakers) {
      for (let k = 0; k < (corpus === "one" ? 5 : 2); k++) {
        const text = sentences[(n + k) % sentences.length]!;
        const file = `${String(n).padStart(5, "0")}_${k}.opus`;
        const wav = join(root, "say.wav");
        execFileSync("espeak-ng", ["-v", "en", "-w", wav, text.toLowerCase()]);
        execFileSync("opusenc", ["--quiet", "--bitrate", "24", wav, join(from, corpus, file)]);
        clipsOf[`${corpus}/${file}`] = 1;
        manifests[corpus]!.push(`${file}\t1.0\t${speaker}\t${text}`);
      }
      n++;
    }
    for (const [corpus, lines] of Object.entries(manifests)) writeFileSync(join(from, corpus, "manifest.tsv"), lines.join("\n") + "\n");
    // Not a clip manifest (noise, impulse responses): passed over.
    writeFileSync(join(from, "noise", "manifest.tsv"), "path\tduration\ttype\tlicence\nx.wav\t1\tnoise\tCC0\n");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test("opusdec gives the clip at 16 kHz, the same samples every time", async () => {
    const path = join(from, "one", Object.keys(clipsOf).find((k) => k.startsWith("one/"))!.slice(4));
    const a = await decodeOpus(path, systemTools());
    const b = await decodeOpus(path, systemTools());
    assert.ok(a.length > 8000, `${a.length} samples`);
    assert.deepEqual(a, b);
    await assert.rejects(decodeOpus(join(from, "one", "manifest.tsv"), systemTools()), /opusdec/);
  });

  test("text, talks, copies, MuST-C layout; prepared together with another corpus", async () => {
    const clips = await speechText(from, { seed: 1, jobs: 1, pair: "en-es" });
    assert.equal(clips.length, 17);
    assert.ok(clips.every((c) => c.corpus !== "noise"));
    const dev = clips.filter((c) => c.split === realDevSplit);
    assert.equal(new Set(dev.map((c) => c.speaker)).size, 1);
    assert.ok(dev.every((c) => c.corpus === "many"));
    const walked = clips.find((c) => c.en === "We walked home.")!;
    assert.match(walked.tgt, /casa/i);
    assert.equal(clips.find((c) => c.en === "S A M E.")!.tgt, "S A M E."); // spelling is not translated
    const tsv = join(root, "speech.tsv");
    writeSpeechTsv(tsv, clips);
    assert.deepEqual(readSpeechTsv(tsv), clips);

    const talks = planSpeechTalks(clips, { seed: 1, copies: 2 });
    assert.ok(talks.filter((t) => t.split === "train").every((t) => talks.some((u) => u.copy !== t.copy && u.clips === t.clips)));
    assert.ok(talks.filter((t) => t.split === realDevSplit).every((t) => t.copy === 0));
    // One source weighed up: its train talks are written 5 times, the others' still twice, and the talks
    // (clips, pauses) are the same plan.
    const weighed = planSpeechTalks(clips, { seed: 1, copies: 2, copiesOf: parseCopiesOf("many=5", new Set(clips.map((c) => c.corpus))) });
    const countOf = (ts: typeof talks, corpus: string) => ts.filter((t) => t.split === "train" && t.clips[0]!.corpus === corpus).length;
    for (const corpus of new Set(clips.map((c) => c.corpus))) {
      assert.equal(countOf(weighed, corpus), countOf(talks, corpus) / 2 * (corpus === "many" ? 5 : 2), corpus);
    }
    assert.deepEqual(weighed.filter((t) => t.copy === 0).map((t) => [t.clips, t.pauses]), talks.filter((t) => t.copy === 0).map((t) => [t.clips, t.pauses]));
    assert.throws(() => parseCopiesOf("nosuch=4", new Set(["many"])), /--copies-of names 'nosuch', which is not a source here \(sources: many\)/);
    assert.throws(() => parseCopiesOf("many=0", new Set(["many"])), /--copies-of many needs an integer >= 1, got '0'/);
    assert.throws(() => parseCopiesOf("many", new Set(["many"])), /SOURCE=K items/);
    const out = join(root, "out");
    // Every kind that needs no asset kit: speed/tempo/pitch per clip, the rest on the whole talk.
    const augment = { kinds: augmentKinds, kit: null, seed: 1 };
    const opts = { root: from, outDir: out, pair: "en-es", jobs: 2, tools: systemTools(), augment };
    assert.ok(talks.every((t) => (speechPlan(t, augment) === null) === (t.copy === 0)));
    assert.deepEqual(speechPlan(talks[1]!, augment), speechPlan(talks[1]!, augment));
    const summary = await writeSpeechCorpus(talks, opts);
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.made, talks.length);

    const train = readMustcSplit(out, "en-es", "train");
    assert.equal(train.segments.length, clips.filter((c) => c.split === "train").length * 2);
    // Every segment is exactly its clip: the yaml times cut the decoded clip out of the talk.
    const seg = train.segments[0]!;
    const talkAudio = (await decodeAudio(seg.wav, { sampleRate: 16000 })).samples;
    const clip = clips.find((c) => c.en === seg.src && `${c.corpus}/${c.speaker}` === seg.speaker)!;
    const alone = await decodeOpus(join(from, clip.corpus, clip.file), systemTools());
    assert.ok(Math.abs(seg.numSamples - alone.length) <= 1, `${seg.numSamples} vs ${alone.length}`);
    const cut = talkAudio.subarray(seg.startSample, seg.startSample + 400);
    for (let i = 0; i < 400; i++) assert.ok(Math.abs(cut[i]! - alone[i]!) <= 1 / 32768 + 1e-6, `sample ${i}`);

    // An augmented copy: the same clips at the plan's speed, so its segments last clip / (speed * tempo).
    const copy1 = train.talks.find((t) => t.talk.endsWith("_c1"))!;
    const plan = speechPlan(talks.find((t) => t.name === copy1.talk)!, augment)!;
    const copy0 = train.talks.find((t) => t.talk === copy1.talk.replace(/_c1$/, "_c0"))!;
    copy1.segments.forEach((s, i) => {
      const expected = copy0.segments[i]!.numSamples * timeScale(plan);
      assert.ok(Math.abs(s.numSamples - expected) < 0.01 * expected + 200, `${s.numSamples} vs ${expected}`);
    });

    // A rerun makes nothing again and writes the same files.
    const yaml = readFileSync(join(out, "en-es/data/train/txt/train.yaml"), "utf8");
    const again = await writeSpeechCorpus(talks, opts);
    assert.equal(again.made, 0);
    assert.equal(readFileSync(join(out, "en-es/data/train/txt/train.yaml"), "utf8"), yaml);

    // Two shards, then a run without: the same corpus as one run.
    const sharded = { ...opts, outDir: join(root, "sharded") };
    const parts = await Promise.all([0, 1].map((index) => writeSpeechCorpus(talks, { ...sharded, shard: { index, count: 2 } })));
    assert.equal(parts[0]!.made + parts[1]!.made, talks.length);
    assert.equal((await writeSpeechCorpus(talks, sharded)).made, 0);
    assert.equal(readFileSync(join(root, "sharded/en-es/data/train/txt/train.yaml"), "utf8"), yaml);
    assert.deepEqual(readFileSync(join(root, "sharded/en-es/data/train/wav", `${talks[1]!.name}.wav`)), readFileSync(join(out, "en-es/data/train/wav", `${talks[1]!.name}.wav`)));

    // Prepared with a synthetic corpus: one train split holding both; dev from the one that has it.
    const tiny = await makeTinyMustc();
    try {
      const merged = readMustcSplits([tiny, out], "en-es", "train");
      assert.equal(merged.talks.length, readMustcSplit(tiny, "en-es", "train").talks.length + train.talks.length);
      assert.throws(() => readMustcSplits([tiny, tiny], "en-es", "train"), (e: unknown) => e instanceof InputError && /also in/.test(e.message));
      assert.throws(() => readMustcSplits([tiny, out], "en-es", "tst-NONE"), (e: unknown) => e instanceof InputError && /not found in any/.test(e.message));
      const data = join(root, "data");
      const r = nast(["prep", "--mustc", tiny, "--mustc", out, "--pair", "en-es", "-o", data, "--vocab", "60", "--splits", `train,dev,${realDevSplit}`, "--jobs", "1"]);
      assert.equal(r.code, 0, r.stderr);
      const store = openFeatureStore(join(data, "train"));
      const talksIn = new Set(Array.from({ length: store.size }, (_, i) => store.meta(i).talk));
      assert.ok([...talksIn].some((t) => t.startsWith("ted_")) && [...talksIn].some((t) => t.startsWith("real_")));
      assert.equal(openFeatureStore(join(data, realDevSplit)).size, dev.length);
    } finally {
      rmSync(tiny, { recursive: true, force: true });
    }
  });

  test("CLI: --text-only needs --tsv; a missing folder is named", () => {
    const r = nast(["corpus", "speech", "--from", from, "--text-only"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tsv/);
    const m = nast(["corpus", "speech", "--from", join(root, "nope"), "-o", join(root, "x")]);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /nope.*does not exist/);
  });
});
