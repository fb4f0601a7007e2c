// Translating as the audio streams by: Silero VAD on a stream gives the segments it gives on the whole
// recording, and `translateFile` on 20 minutes of audio never holds the recording (77 MB as float32):
// the memory it allocates stays far below, while every segment reaches the network with exactly the
// features it has when cut out of the whole decoded recording.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { decodeAudio } from "../../src/audio/decode.ts";
import { AudioMeter, segmentSpeech, type SpeechSegment } from "../../src/audio/segment.ts";
import { PCM16_MONO, wavHeader } from "../../src/audio/wav-header.ts";
import type { ModelPackage } from "../../src/formats/model-package.ts";
import type { BatchRunner, Features } from "../../src/infer/batch-runner.ts";
import { Translator } from "../../src/infer/translator.ts";
import { SileroVad } from "../../src/infer/vad.ts";
import { energySegmenter } from "../../src/infer/segmenters.ts";
import { Rng } from "../../src/util/rng.ts";
import { randomBlocks } from "../helpers/blocks.ts";

const RATE = 16000;
const EXAMPLE = new URL("../../models/default/example.wav", import.meta.url).pathname;
let work = "";
before(() => (work = mkdtempSync(join(tmpdir(), "nast-stream-"))));
after(() => rmSync(work, { recursive: true, force: true }));

/** `samples` in blocks of random sizes (1 sample up to 2 s). */
const blocks = (rng: Rng, samples: Float32Array) => randomBlocks(rng, samples, 700, 32000);

test("Silero VAD on a stream: the segments of the whole recording (full level, and quiet so that it is amplified)", async () => {
  const vad = await SileroVad.load();
  try {
    const example = (await decodeAudio(EXAMPLE)).samples;
    const long = new Float32Array(example.length * 2 + 7 * RATE);
    long.set(example, 3 * RATE);
    long.set(example, example.length + 6 * RATE);
    const rng = new Rng(3);
    for (const samples of [example, Float32Array.from(long, (v) => v * 10 ** (-45 / 20))]) {
      const meter = new AudioMeter(RATE);
      for (const b of blocks(rng, samples)) meter.push(b);
      for (const opts of [{}, { maxSeconds: 2 }]) {
        const stream = vad.open(meter.finish(), opts);
        const got: SpeechSegment[] = [];
        for (const b of blocks(rng, samples)) got.push(...(await stream.push(b)));
        got.push(...(await stream.finish()));
        const whole = await vad.segment(samples, RATE, opts);
        assert.ok(whole.length >= 5);
        assert.deepEqual(got, whole);
      }
    }
  } finally {
    await vad.release();
  }
});

/** Sentences of tone and noise between pauses of 0.3–2 s, 16-bit. */
function talkPcm(seconds: number, rng: Rng): Int16Array {
  const pcm = new Int16Array(seconds * RATE);
  let i = RATE;
  while (i < pcm.length) {
    const n = Math.round((0.5 + 6 * rng.uniform()) * RATE);
    for (let k = i; k < Math.min(pcm.length, i + n); k++) pcm[k] = Math.round(6000 * Math.sin(k * 0.05 + Math.sin(k * 0.001)) + 800 * (rng.uniform() - 0.5));
    i += n + Math.round((0.3 + 1.7 * rng.uniform()) * RATE);
  }
  return pcm;
}

const checksum = (f: Features): number => f.feats.reduce((a, x) => a + x, 0);

test("20 minutes through translateFile: bounded memory, and each segment's network input is the whole-array one", async () => {
  const seconds = 1200;
  const pcm = talkPcm(seconds, new Rng(8));
  const wav = join(work, "twenty-minutes.wav");
  writeFileSync(wav, Buffer.concat([wavHeader(PCM16_MONO(RATE), pcm.byteLength), Buffer.from(pcm.buffer)]));

  // A network that remembers what it was given (the "translation" of a segment is the index of its
  // input), and the memory held in typed arrays whenever a batch reaches it, after a full collection.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const inputs: { frames: number; sum: number }[] = [];
  let base = 0;
  let peak = 0;
  const sample = async (): Promise<void> => {
    // Freed array buffers are released by a background task: collect, let it run, collect again.
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  };
  const runner: BatchRunner = {
    run: async (items) => {
      await sample();
      const ids = items.map((x) => BigInt(inputs.push({ frames: x.frames, sum: checksum(x) })));
      return { batch: items.length, steps: 1, vocab: 1, outLengths: items.map(() => 1), tgtIds: BigInt64Array.from(ids), tgtScores: new Float32Array(items.length), srcIds: new BigInt64Array(items.length) };
    },
  };
  const sp = { decode: (ids: number[]) => ids.join(" "), idToPiece: (id: number) => `▁${id}` };
  const pkg = { sp, frameSeconds: 0.04, cfg: { vocabSize: 1 } } as unknown as ModelPackage;
  const translator = new Translator(pkg, runner, { segmenter: energySegmenter, progress: false });
  gc();
  base = process.memoryUsage().arrayBuffers;
  const result = await translator.translateFile(wav, "fake");

  const samples = (await decodeAudio(wav)).samples;
  const expected = segmentSpeech(samples, RATE, { maxSeconds: 20 });
  assert.ok(expected.length > 150, `${expected.length} segments`);
  assert.equal(result.duration, seconds);
  assert.deepEqual(
    result.segments.map((s) => [s.start, s.end]),
    expected.map((s) => [Number((s.start / RATE).toFixed(3)), Number((s.end / RATE).toFixed(3))]),
  );
  result.segments.forEach((s, i) => {
    const got = inputs[Number(s.translation) - 1]!;
    const want = translator.features(samples.subarray(expected[i]!.start, expected[i]!.end));
    assert.deepEqual(got, { frames: want.frames, sum: checksum(want) }, `segment ${i}`);
  });
  // The recording is 77 MB as float32; the translator holds a window of segments (at most 160 s of
  // audio, 10 MB), the audio of the segment being cut, and one batch.
  process.stdout.write(`# 20 min: at most ${(peak / 1e6).toFixed(1)} MB held in typed arrays\n`);
  assert.ok(peak < 25e6, `${(peak / 1e6).toFixed(1)} MB held in typed arrays`);
});
