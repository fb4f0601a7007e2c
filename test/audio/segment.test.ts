// Voice-activity segmentation on a synthetic talk: espeak-ng sentences joined by silences with a
// little background noise. The cuts must fall in the silences, every sentence must lie inside one
// segment, long silences are dropped, segments respect the length limit, and 10 minutes of audio
// are segmented without copying the samples. The level estimate must not depend on how much of the
// file is speech (the shipped example after 1,000 s of silence or of faint pink noise) nor on the
// recording level (the example at -52 dBFS peak). Segmentation from speech probabilities (a neural
// VAD's): hysteresis, merging, cutting at the least speech-like point, padding, exactly.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeAudio } from "../../src/audio/decode.ts";
import { energyLevels, peakDbfs, type SpeechSegment, segmentProbabilities, segmentSpeech } from "../../src/audio/segment.ts";
import { Rng } from "../../src/util/rng.ts";
import { espeakInt16 } from "./helpers.ts";

const RATE = 16000;
const SENTENCES = [
  "Good morning and welcome to this talk.",
  "Today we will look at speech translation.",
  "The model listens to English audio.",
  "It writes Spanish text without waiting.",
  "Every word is predicted at the same time.",
  "This makes decoding very fast.",
  "Thank you all for listening.",
];

let dir = "";
/** Each sentence as 16 kHz float samples, trimmed to its audible extent. */
let voices: Float32Array[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "nast-segment-"));
  voices = SENTENCES.map((text, i) => {
    const pcm = espeakInt16(text, i % 2 === 0 ? "en" : "en+f3", dir, `s${i}`);
    let first = 0;
    let last = pcm.length - 1;
    while (first < pcm.length && Math.abs(pcm[first]!) < 328) first++;
    while (last > first && Math.abs(pcm[last]!) < 328) last--;
    return Float32Array.from(pcm.subarray(first, last + 1), (v) => v / 32768);
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Talk {
  samples: Float32Array;
  /** Sample ranges of the sentences (their audible extent). */
  speech: SpeechSegment[];
}

/** Sentences separated by silences drawn from [minGap, maxGap) s, -70 dBFS noise throughout. */
function buildTalk(totalSentences: number, minGap: number, maxGap: number, seed: number, lead = 1.5): Talk {
  const rng = new Rng(seed);
  const order = Array.from({ length: totalSentences }, (_, i) => voices[i % voices.length]!);
  const gaps = order.map(() => Math.round((minGap + (maxGap - minGap) * rng.uniform()) * RATE));
  const length = Math.round(lead * RATE) + order.reduce((n, v, i) => n + v.length + gaps[i]!, 0);
  const samples = new Float32Array(length);
  for (let i = 0; i < length; i++) samples[i] = 3e-4 * rng.normal();
  const speech: SpeechSegment[] = [];
  let pos = Math.round(lead * RATE);
  order.forEach((voice, i) => {
    for (let k = 0; k < voice.length; k++) samples[pos + k]! += voice[k]!;
    speech.push({ start: pos, end: pos + voice.length });
    pos += voice.length + gaps[i]!;
  });
  return { samples, speech };
}

/** No segment boundary inside a sentence; every sentence inside exactly one segment. */
function assertCutsInSilences(talk: Talk, segments: SpeechSegment[]): void {
  for (const seg of segments) {
    assert.ok(seg.start < seg.end);
    for (const s of talk.speech) {
      assert.ok(!(seg.start > s.start && seg.start < s.end), `segment start ${seg.start / RATE}s cuts sentence [${s.start / RATE}, ${s.end / RATE}]`);
      assert.ok(!(seg.end > s.start && seg.end < s.end), `segment end ${seg.end / RATE}s cuts sentence [${s.start / RATE}, ${s.end / RATE}]`);
    }
  }
  for (const s of talk.speech) {
    const holders = segments.filter((seg) => seg.start <= s.start && seg.end >= s.end);
    assert.equal(holders.length, 1, `sentence at ${s.start / RATE}s is in ${holders.length} segments`);
  }
  for (let i = 1; i < segments.length; i++) assert.ok(segments[i]!.start >= segments[i - 1]!.end, "segments overlap");
}

describe("segmentSpeech", () => {
  test("a talk with 0.7–1.6 s pauses: one segment per sentence, silences dropped", () => {
    const talk = buildTalk(SENTENCES.length, 0.7, 1.6, 1);
    const segments = segmentSpeech(talk.samples, RATE);
    assertCutsInSilences(talk, segments);
    assert.equal(segments.length, SENTENCES.length);
    // Leading silence dropped (up to the 0.1 s padding), trailing silence too.
    assert.ok(segments[0]!.start >= talk.speech[0]!.start - 0.12 * RATE);
    assert.ok(segments.at(-1)!.end <= talk.speech.at(-1)!.end + 0.12 * RATE);
    const kept = segments.reduce((n, s) => n + s.end - s.start, 0);
    const spoken = talk.speech.reduce((n, s) => n + s.end - s.start, 0);
    assert.ok(kept < spoken + segments.length * 0.25 * RATE, "silence is not kept");
  });

  test("short pauses merge sentences; over-long stretches are cut at the pauses", () => {
    // 0.3 s pauses are below minPause: the talk is one long stretch that must be split at ≤ 8 s.
    const talk = buildTalk(14, 0.3, 0.35, 2);
    const maxSeconds = 8;
    const segments = segmentSpeech(talk.samples, RATE, { maxSeconds });
    assert.ok(segments.length >= 4, `${segments.length} segments`);
    for (const s of segments) assert.ok(s.end - s.start <= (maxSeconds + 0.2) * RATE, `segment of ${(s.end - s.start) / RATE}s`);
    assertCutsInSilences(talk, segments);
    // Merging happened: some segment holds several sentences.
    assert.ok(segments.some((seg) => talk.speech.filter((s) => s.start >= seg.start && s.end <= seg.end).length >= 2));
  });

  test("speech without any pause is still cut at the limit", () => {
    const rng = new Rng(3);
    const samples = Float32Array.from({ length: 50 * RATE }, (_, i) => 0.3 * Math.sin(i * 0.05) * (1 + 0.5 * Math.sin(i * 0.0007)) + 0.01 * rng.normal());
    const segments = segmentSpeech(samples, RATE, { maxSeconds: 20 });
    assert.ok(segments.length >= 3);
    for (const s of segments) assert.ok(s.end - s.start <= 20.2 * RATE);
    assert.equal(segments[0]!.start, 0);
    assert.equal(segments.at(-1)!.end, samples.length);
  });

  test("silence and empty input give no segments", () => {
    assert.deepEqual(segmentSpeech(new Float32Array(0), RATE), []);
    assert.deepEqual(segmentSpeech(new Float32Array(RATE * 5), RATE), []);
    const rng = new Rng(4);
    assert.deepEqual(segmentSpeech(Float32Array.from({ length: RATE * 5 }, () => 1e-5 * rng.normal()), RATE), []);
  });

  test("10 minutes: all cuts in silences, ≤ 20 s each, no copy of the samples", () => {
    const talk = buildTalk(235, 0.3, 1.2, 5);
    assert.ok(talk.samples.length >= 590 * RATE, `${talk.samples.length / RATE} s`);
    const before = process.memoryUsage().arrayBuffers;
    const segments = segmentSpeech(talk.samples, RATE);
    const grown = process.memoryUsage().arrayBuffers - before;
    // The samples are 38 MB; the frame energies of 10 minutes are 0.5 MB.
    assert.ok(grown < 8e6, `arrayBuffers grew by ${grown}`);
    for (const s of segments) assert.ok(s.end - s.start <= 20.2 * RATE, `segment of ${(s.end - s.start) / RATE}s`);
    assertCutsInSilences(talk, segments);
  });
});

const EXAMPLE = new URL("../../models/default/example.wav", import.meta.url).pathname;
/** Audible extent (|x| > 1e-3) of the five sentences of the shipped example, seconds. */
export const EXAMPLE_SPEECH: Array<[number, number]> = [
  [0.173, 4.09],
  [5.119, 7.797],
  [8.967, 10.129],
  [10.959, 12.57],
  [13.677, 14.917],
];

/** One segment per sentence, each holding its sentence and starting/ending at most `slack` s from it. */
function assertSentences(segments: SpeechSegment[], offset: number, slack: number): void {
  const got = segments.map((s) => `${(s.start / RATE).toFixed(2)}-${(s.end / RATE).toFixed(2)}`).join(" ");
  assert.equal(segments.length, EXAMPLE_SPEECH.length, `segments ${got}`);
  EXAMPLE_SPEECH.forEach(([a, b], i) => {
    const start = segments[i]!.start / RATE - offset;
    const end = segments[i]!.end / RATE - offset;
    assert.ok(start <= a && start >= a - slack, `sentence ${i} starts at ${a} s, its segment at ${start} s (${got})`);
    assert.ok(end >= b && end <= b + slack, `sentence ${i} ends at ${b} s, its segment at ${end} s (${got})`);
  });
}

/** Pink (1/f) noise of RMS `rms`: white noise through Paul Kellet's refined filter (musicdsp.org, "pink noise"). */
function pinkNoise(n: number, rms: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  let [b0, b1, b2, b3, b4, b5, b6] = [0, 0, 0, 0, 0, 0, 0];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
    sum += out[i]! * out[i]!;
  }
  const g = rms / Math.sqrt(sum / n);
  for (let i = 0; i < n; i++) out[i]! *= g;
  return out;
}

/** `lead` seconds of `background` (zeros if absent) and then the example, the background going on under it. */
function afterLead(example: Float32Array, lead: number, background?: (n: number) => Float32Array): Float32Array {
  const n = lead * RATE + example.length;
  const out = background ? background(n) : new Float32Array(n);
  for (let i = 0; i < example.length; i++) out[lead * RATE + i]! += example[i]!;
  return out;
}

/** The example at `peak` dBFS, quantised to 16 bits as a WAV file would hold it. */
function atPeak(example: Float32Array, peak: number): Float32Array {
  const g = 10 ** ((peak - peakDbfs(example)) / 20);
  return Float32Array.from(example, (v) => Math.round(v * g * 32768) / 32768);
}

describe("segmentSpeech: level estimate", () => {
  let example: Float32Array = new Float32Array(0);
  before(async () => {
    example = (await decodeAudio(EXAMPLE)).samples;
  });

  test("the shipped example: one segment per sentence, padded by 0.1 s", () => {
    assertSentences(segmentSpeech(example, RATE), 0, 0.12);
  });

  test("1,000 s of digital silence, then the example: its sentences, 1,000 s later", () => {
    // Speech is 1.5% of the file: the 99th percentile of all frames was silence, and nothing was found.
    const samples = afterLead(example, 1000);
    assertSentences(segmentSpeech(samples, RATE), 1000, 0.12);
    const levels = energyLevels(samples, RATE);
    assert.equal(levels.noiseDb, -120);
    assert.ok(levels.speechDb > -20, `speech level ${levels.speechDb} dBFS`);
  });

  test("1,000 s of pink noise at -65 dBFS, the example over it: its sentences", () => {
    const samples = afterLead(example, 1000, (n) => pinkNoise(n, 10 ** (-65 / 20), 11));
    assertSentences(segmentSpeech(samples, RATE), 1000, 0.12);
  });

  test("the example at -52 dBFS peak and at -70 dBFS peak (16-bit): the same sentences", () => {
    assertSentences(segmentSpeech(atPeak(example, -52), RATE), 0, 0.12);
    assertSentences(segmentSpeech(atPeak(example, -70), RATE), 0, 0.12);
  });

  test("flat input: digital silence, hiss and pink noise below -60 dBFS give nothing; a click in it too", () => {
    assert.deepEqual(segmentSpeech(new Float32Array(60 * RATE), RATE), []);
    assert.deepEqual(segmentSpeech(pinkNoise(60 * RATE, 10 ** (-70 / 20), 12), RATE), []);
    const click = pinkNoise(60 * RATE, 10 ** (-70 / 20), 13);
    for (let i = 0; i < 80; i++) click[30 * RATE + i] = 0.9 * (i % 2 ? 1 : -1);
    assert.deepEqual(segmentSpeech(click, RATE), []);
    assert.equal(energyLevels(click, RATE).threshold, Infinity);
  });
});

describe("segmentProbabilities", () => {
  const HOP = 512;
  const FRAME = HOP / RATE;
  /** Probabilities from a pattern: one character per 32 ms frame, '#' 0.9, '+' 0.4, '-' 0.2, '.' 0.01. */
  const probs = (pattern: string): Float32Array =>
    Float32Array.from(pattern, (c) => ({ "#": 0.9, "+": 0.4, "-": 0.2, ".": 0.01 })[c] ?? Number.NaN);
  const frames = (segments: SpeechSegment[]): Array<[number, number]> => segments.map((s) => [s.start / HOP, s.end / HOP]);
  const none = { padSeconds: 0, minSpeechSeconds: 0, minPauseSeconds: 0 };

  test("hysteresis: speech starts at 0.5 and goes on down to 0.35 (Silero's neg_threshold)", () => {
    const p = probs("..++##++--##..");
    const segs = segmentProbabilities(p, HOP, p.length * HOP, RATE, none);
    assert.deepEqual(frames(segs), [
      [4, 8],
      [10, 12],
    ]);
  });

  test("pauses under minPause merge, bursts under minSpeech go, padding stops at half the gap", () => {
    // 0.5 s = 16 frames of pause merge; 0.2 s = 6 frames of speech are kept.
    const p = probs(`${".".repeat(20)}${"#".repeat(30)}${".".repeat(10)}${"#".repeat(30)}${".".repeat(40)}${"#".repeat(4)}${".".repeat(20)}${"#".repeat(30)}${".".repeat(6)}`);
    const segs = segmentProbabilities(p, HOP, p.length * HOP, RATE, { padSeconds: 0.1 });
    // Regions: [20, 90) (merged across the 10-frame pause), the 4-frame burst dropped, [154, 184);
    // 0.1 s padding = 3 frames, and only 3 frames after the last one (the end of the input).
    assert.deepEqual(frames(segs), [
      [17, 93],
      [151, 187],
    ]);
  });

  test("a region over maxSeconds is cut in its last half: at the longest pause, else the least speech-like point", () => {
    // 12 s of speech (375 frames) with a 5-frame dip at frame 250 and a 3-frame one at frame 230; max 10 s.
    const speech = Array.from({ length: 375 }, (_, f) => (f >= 250 && f < 255 ? "-" : f >= 230 && f < 233 ? "-" : "#")).join("");
    const p = probs(speech);
    // Both dips are under minPause (0.5 s), so the 12 s are one region.
    const segs = segmentProbabilities(p, HOP, p.length * HOP, RATE, { padSeconds: 0, maxSeconds: 10 });
    assert.deepEqual(frames(segs), [
      [0, 250],
      [255, 375],
    ]);
    // Without any pause: cut at the lowest-probability pair of frames in frames [156, 312).
    const flat = Float32Array.from({ length: 375 }, (_, f) => (f === 200 ? 0.52 : f === 201 ? 0.51 : 0.9));
    const cut = segmentProbabilities(flat, HOP, flat.length * HOP, RATE, { padSeconds: 0, maxSeconds: 10 });
    assert.deepEqual(frames(cut), [
      [0, 201],
      [201, 375],
    ]);
    for (const s of [...segs, ...cut]) assert.ok((s.end - s.start) / RATE <= 10 + FRAME);
  });

  test("the last segment ends at the last sample; no probability above 0.5 gives nothing", () => {
    const p = probs("....######");
    const segs = segmentProbabilities(p, HOP, 9 * HOP + 100, RATE, none);
    assert.deepEqual(segs, [{ start: 4 * HOP, end: 9 * HOP + 100 }]);
    assert.deepEqual(segmentProbabilities(probs("..++--++.."), HOP, 10 * HOP, RATE, none), []);
    assert.deepEqual(segmentProbabilities(new Float32Array(0), HOP, 0, RATE), []);
  });
});
