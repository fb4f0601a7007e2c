// Ten minutes of speech through the translate pipeline with bounded memory: the audio is cut at pauses
// into segments of at most ~20 s (one stretch of 30 s without any pause included), features are computed
// batch by batch, and the resident memory grows by far less than translating the audio as one piece
// would need (the attention alone of a 10-minute segment would take gigabytes).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAudio } from "../../src/audio/decode.ts";
import { loadModelPackage } from "../../src/formats/model-package.ts";
import { NastSession } from "../../src/infer/session.ts";
import { Translator } from "../../src/infer/translator.ts";
import { Rng } from "../../src/util/rng.ts";
import { synthTalk, tinyModelPackage, writeWav16k, SENTENCES_EN } from "./fixtures.ts";

const work = mkdtempSync(join(tmpdir(), "nast-long-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("10 minutes of audio: segments <= ~20 s, in order, and bounded memory growth", async () => {
  const model = tinyModelPackage(join(work, "tiny"));
  const sentences: Float32Array[] = [];
  for (const [i, s] of SENTENCES_EN.entries()) sentences.push((await decodeAudio((await synthTalk(join(work, `s${i}`), [s], 0)).path)).samples);

  // 10 minutes: sentences separated by pauses of 0.6–1.5 s, and once 30 s of speech without a pause.
  const rate = 16000;
  const total = 600 * rate;
  const samples = new Float32Array(total);
  const rng = new Rng(5);
  let at = rate;
  let k = 0;
  let continuousDone = false;
  while (at < total - 5 * rate) {
    const s = sentences[k++ % sentences.length]!;
    if (at + s.length > total) break;
    samples.set(s, at);
    at += s.length;
    const inContinuous = !continuousDone && at > 120 * rate && at < 150 * rate;
    if (at >= 150 * rate) continuousDone = true;
    at += inContinuous ? 0 : Math.round((0.6 + 0.9 * rng.uniform()) * rate);
  }
  const wav = join(work, "ten-minutes.wav");
  writeWav16k(wav, samples);

  const pkg = loadModelPackage(model.dir);
  const session = await NastSession.create(pkg, { threads: 1 });
  const translator = new Translator(pkg, session, { batchSize: 4, progress: false });
  // Warm up onnxruntime's allocator, so that only what depends on the input length is measured.
  await translator.translateFile((await synthTalk(join(work, "warm"), [SENTENCES_EN[0]!], 0.5)).path, model.dir);
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const result = await translator.translateFile(wav, model.dir);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  await session.release();

  const growthMb = (peak - base) / 2 ** 20;
  process.stdout.write(`# 10 min of audio: ${result.segments.length} segments, RSS growth ${growthMb.toFixed(0)} MB\n`);
  assert.ok(Math.abs(result.duration - 600) < 0.01);
  assert.ok(result.segments.length >= 60, `${result.segments.length} segments`);
  let prev = 0;
  for (const s of result.segments) {
    assert.ok(s.end - s.start <= 20.5, `segment [${s.start}, ${s.end}] longer than ~20 s`);
    assert.ok(s.start >= prev && s.end <= 600, "segments in order, inside the audio");
    prev = s.end;
  }
  // The samples alone are 37 MB (float32); a whole-file forward pass would need > 1 GB for one attention map.
  assert.ok(growthMb < 300, `RSS grew by ${growthMb.toFixed(0)} MB`);
});
