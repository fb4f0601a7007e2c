// Silero VAD (src/infer/vad.ts) with the model file of the npm package: the v5 interface, one
// probability per 32 ms window, the five sentences of the shipped example found at their times (also
// after 1,000 s of silence and at -52/-70 dBFS), nothing in silence or noise, segments within the
// length limit and cut in pauses, the fallback to the energy segmenter when the model cannot be
// loaded, and `nast translate --vad` with the warning for inputs without speech.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAudio } from "../../src/audio/decode.ts";
import { peakDbfs, type SpeechSegment } from "../../src/audio/segment.ts";
import { loadSegmenter, SILERO_PAGE_FILE, sileroModelPath, SileroVad } from "../../src/infer/vad.ts";
import { energySegmenter, SILERO_WINDOW } from "../../src/infer/segmenters.ts";
import { Rng } from "../../src/util/rng.ts";
import { sentenceChrf } from "../../eval/metrics/index.ts";
import type { ModelPackage } from "../../src/formats/model-package.ts";
import { Translator } from "../../src/infer/translator.ts";
import { runNast as nast } from "../helpers/cli.ts";
import { writeWav16k } from "./fixtures.ts";

const RATE = 16000;
const EXAMPLE = new URL("../../models/default/example.wav", import.meta.url).pathname;
/** Audible extent (|x| > 1e-3) of the five sentences of the shipped example, seconds. */
const SPEECH: Array<[number, number]> = [
  [0.173, 4.09],
  [5.119, 7.797],
  [8.967, 10.129],
  [10.959, 12.57],
  [13.677, 14.917],
];

let vad: SileroVad;
let example: Float32Array = new Float32Array(0);
let work = "";

before(async () => {
  vad = await SileroVad.load();
  example = (await decodeAudio(EXAMPLE)).samples;
  work = mkdtempSync(join(tmpdir(), "nast-vad-"));
});
after(async () => {
  await vad.release();
  rmSync(work, { recursive: true, force: true });
});

const show = (segments: SpeechSegment[]): string => segments.map((s) => `${(s.start / RATE).toFixed(2)}-${(s.end / RATE).toFixed(2)}`).join(" ");

/** One segment per sentence, holding it, its edges at most `slack` s away from the sentence's. */
function assertSentences(segments: SpeechSegment[], offset = 0, slack = 0.25): void {
  assert.equal(segments.length, SPEECH.length, show(segments));
  SPEECH.forEach(([a, b], i) => {
    const start = segments[i]!.start / RATE - offset;
    const end = segments[i]!.end / RATE - offset;
    assert.ok(start <= a && start >= a - slack, `sentence ${i} starts at ${a} s, its segment at ${start} s (${show(segments)})`);
    assert.ok(end >= b && end <= b + slack, `sentence ${i} ends at ${b} s, its segment at ${end} s (${show(segments)})`);
  });
}

function atPeak(samples: Float32Array, peak: number): Float32Array {
  const g = 10 ** ((peak - peakDbfs(samples)) / 20);
  return Float32Array.from(samples, (v) => Math.round(v * g * 32768) / 32768);
}

describe("Silero VAD", () => {
  test("the models come from node_modules: Silero VAD v6 for the page, its 16 kHz file for onnxruntime-node", () => {
    assert.match(sileroModelPath(SILERO_PAGE_FILE), /node_modules\/@jjhbw\/silero-vad\/weights\/silero_vad\.onnx$/);
    assert.match(sileroModelPath(), /node_modules\/@jjhbw\/silero-vad\/weights\/silero_vad_16k_op15\.onnx$/);
    // A new package version must not swap models unnoticed. The page's file is the one @ricky0123/vad-web 0.0.31
    // ships as silero_vad_v6.onnx; that the 16 kHz file is the same network is test/infer/silero-sequence.test.ts's.
    const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
    assert.equal(sha(sileroModelPath(SILERO_PAGE_FILE)), "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3");
    assert.equal(sha(sileroModelPath()), "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49");
    assert.equal(vad.path, sileroModelPath());
  });

  test("one probability per 32 ms window: high inside the sentences, low in the pauses", async () => {
    const p = await vad.probabilities(example);
    assert.equal(p.length, Math.ceil(example.length / SILERO_WINDOW));
    const at = (t: number): number => p[Math.floor((t * RATE) / SILERO_WINDOW)]!;
    const inside: number[] = [];
    const pauses: number[] = [];
    for (const [a, b] of SPEECH) for (let t = a + 0.3; t < b - 0.3; t += 0.032) inside.push(at(t));
    for (let i = 0; i + 1 < SPEECH.length; i++) for (let t = SPEECH[i]![1] + 0.35; t < SPEECH[i + 1]![0] - 0.1; t += 0.032) pauses.push(at(t));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(inside) > 0.8, `mean probability in speech ${mean(inside)}`);
    assert.ok(Math.max(...pauses) < 0.2, `largest probability in the pauses ${Math.max(...pauses)}`);
  });

  test("finds the five sentences of the shipped example", async () => {
    assertSentences(await vad.segment(example, RATE));
  });

  test("1,000 s of silence, then the example: its sentences, 1,000 s later", async () => {
    const samples = new Float32Array(1000 * RATE + example.length);
    samples.set(example, 1000 * RATE);
    assertSentences(await vad.segment(samples, RATE), 1000);
  });

  test("the example at -52 and -70 dBFS peak (16-bit): the same sentences (quiet input is amplified for the VAD)", async () => {
    assertSentences(await vad.segment(atPeak(example, -52), RATE));
    assertSentences(await vad.segment(atPeak(example, -70), RATE));
  });

  test("nothing in silence, white or pink-ish noise, mains hum or a tone", async () => {
    const rng = new Rng(3);
    const n = 10 * RATE;
    let lp = 0;
    const cases: Record<string, Float32Array> = {
      "digital silence": new Float32Array(n),
      "white noise, -30 dBFS": Float32Array.from({ length: n }, () => 0.03 * rng.normal()),
      "white noise, -10 dBFS": Float32Array.from({ length: n }, () => 0.3 * rng.normal()),
      "low-passed noise": Float32Array.from({ length: n }, () => (lp = 0.95 * lp + 0.05 * rng.normal())),
      "50 Hz hum": Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 50 * i) / RATE) + 0.05 * Math.sin((2 * Math.PI * 150 * i) / RATE)),
      "1 kHz tone": Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 1000 * i) / RATE)),
    };
    for (const [name, samples] of Object.entries(cases)) assert.deepEqual(await vad.segment(samples, RATE), [], name);
    assert.deepEqual(await vad.segment(new Float32Array(0), RATE), []);
  });

  test("sentences 0.3 s apart merge into one stretch, which is cut in the pauses at <= maxSeconds", async () => {
    // The five sentences with 0.3 s of silence between them (under the 0.5 s minimum pause): 13.6 s.
    const gap = Math.round(0.3 * RATE);
    const parts = SPEECH.map(([a, b]) => example.subarray(Math.round((a - 0.02) * RATE), Math.round((b + 0.02) * RATE)));
    const samples = new Float32Array(parts.reduce((n, p) => n + p.length + gap, gap));
    const sentences: Array<[number, number]> = [];
    let at = gap;
    for (const p of parts) {
      samples.set(p, at);
      sentences.push([at, at + p.length]);
      at += p.length + gap;
    }
    const maxSeconds = 6;
    const segments = await vad.segment(samples, RATE, { maxSeconds });
    assert.ok(segments.length >= 3, show(segments));
    for (const s of segments) assert.ok(s.end - s.start <= (maxSeconds + 0.2) * RATE, `segment of ${(s.end - s.start) / RATE} s`);
    // Every sentence lies inside exactly one segment: each cut fell in a pause.
    for (const [a, b] of sentences) {
      const holders = segments.filter((s) => s.start <= a + 0.05 * RATE && s.end >= b - 0.05 * RATE);
      assert.equal(holders.length, 1, `sentence ${a / RATE}-${b / RATE} s in ${holders.length} segments (${show(segments)})`);
    }
    const whole = await vad.segment(samples, RATE);
    assert.equal(whole.length, 1, `one segment without the limit (${show(whole)})`);
  });

  test("a model that cannot be loaded: the energy segmenter, with a warning naming the file", async () => {
    const warnings: string[] = [];
    const missing = await loadSegmenter("silero", (m) => warnings.push(m), join(work, "no-such.onnx"));
    assert.equal(missing, energySegmenter);
    const bad = join(work, "bad.onnx");
    writeFileSync(bad, "not an onnx model");
    const corrupt = await loadSegmenter("silero", (m) => warnings.push(m), bad);
    assert.equal(corrupt.name, "energy");
    const other = await loadSegmenter("silero", (m) => warnings.push(m), new URL("../../models/default/model.onnx", import.meta.url).pathname);
    assert.equal(other.name, "energy");
    assert.match(warnings[2]!, /model\.onnx: not a 16 kHz Silero VAD model of the layout nast batches \(it has no node that makes \/model\/encoder\/3\/activation\/Relu_output_0\); use @jjhbw\/silero-vad's weights\/silero_vad_16k_op15\.onnx/);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0]!, /^Silero VAD is not available \(.*no-such\.onnx: no such file \(the Silero VAD model\)\); segmenting by energy instead$/);
    assert.match(warnings[1]!, /bad\.onnx: not a 16 kHz Silero VAD model of the layout nast batches \(not an ONNX file: /);
    assert.equal((await loadSegmenter("energy", () => assert.fail("no warning"))).name, "energy");
    await assert.rejects(vad.segment(example, 8000), /16000 Hz/);
  });
});

describe("nast translate --vad", () => {
  test("silero and energy both give the example's five segments; an unknown segmenter is a usage error", () => {
    for (const v of ["silero", "energy"]) {
      const r = nast(["translate", EXAMPLE, "--vad", v, "-f", "json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      const json = JSON.parse(r.stdout) as { segments: { start: number; end: number; translation: string }[] };
      assertSentences(json.segments.map((s) => ({ start: s.start * RATE, end: s.end * RATE })));
      assert.ok(json.segments.every((s) => s.translation.trim().length > 0));
    }
    const bad = nast(["translate", EXAMPLE, "--vad", "webrtc"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--vad: unknown segmenter 'webrtc' \(use silero or energy\)/);
  });

  test("the features do not depend on the level: utterance CMVN removes a gain", () => {
    // A gain g adds 2 ln g to every log-mel energy; CMVN subtracts each bin's mean (and divides by its
    // deviation). Mel energies under the fbank's floor (float32 epsilon on the int16 scale) are the
    // exception: digital silence, which the synthetic example has even between words, so it gets the
    // noise floor of a recording (-80 dBFS) first, and, 50 dB down, the lowest bins of that floor.
    const translator = new Translator({ cfg: {} } as ModelPackage, { run: async () => assert.fail("no network") });
    const rng = new Rng(5);
    const speech = Float32Array.from(example.subarray(0, 5 * RATE), (v) => v + 1e-4 * rng.normal());
    const full = translator.features(speech);
    const quiet = translator.features(Float32Array.from(speech, (v) => v * 10 ** (-30 / 20)));
    assert.equal(quiet.frames, full.frames);
    let diff = 0;
    for (let i = 0; i < full.feats.length; i++) diff = Math.max(diff, Math.abs(full.feats[i]! - quiet.feats[i]!));
    assert.ok(diff < 1e-3, `largest difference ${diff}`);
  });

  test("the example at -52 dBFS peak (16-bit) is found and translated, nearly as at full level, without a warning", () => {
    const quiet = join(work, "quiet.wav");
    writeWav16k(quiet, atPeak(example, -52));
    const full = nast(["translate", EXAMPLE, "-f", "json"]);
    const r = nast(["translate", quiet, "-f", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const a = JSON.parse(full.stdout) as { segments: unknown[]; translation: string };
    const b = JSON.parse(r.stdout) as { segments: unknown[]; translation: string };
    assert.equal(b.segments.length, 5);
    // Only the 16-bit quantisation noise (the quiet file keeps 8 bits of its 16) and the cuts differ.
    const chrf = sentenceChrf(b.translation, [a.translation]).score;
    assert.ok(chrf > 80, `chrF ${chrf} of the quiet translation against the full-level one:\n${b.translation}\n${a.translation}`);
  });

  test("an input without speech: empty output, exit 0, and a warning naming it and its level", () => {
    const silent = join(work, "silent.wav");
    writeWav16k(silent, new Float32Array(5 * RATE));
    const hiss = join(work, "hiss.wav");
    const rng = new Rng(9);
    writeWav16k(hiss, Float32Array.from({ length: 5 * RATE }, () => 3e-4 * rng.normal()));
    for (const v of ["silero", "energy"]) {
      const r = nast(["translate", silent, hiss, "--vad", v]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "\n\n");
      assert.match(r.stderr, new RegExp(`nast translate: warning: ${silent.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no speech found by the ${v} segmenter in 5\\.0 s of audio \\(digital silence\\)`));
      assert.match(r.stderr, new RegExp(`warning: ${hiss.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no speech found by the ${v} segmenter in 5\\.0 s of audio \\(peak -[5-6]\\d\\.\\d dBFS, speech level -\\d+\\.\\d dBFS RMS, noise floor -\\d+\\.\\d dBFS\\)`));
    }
  });
});
