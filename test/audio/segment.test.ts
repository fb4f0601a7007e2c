// Voice-activity segmentation on a synthetic talk: espeak-ng sentences joined by silences with a
// little background noise. The cuts must fall in the silences, every sentence must lie inside one
// segment, long silences are dropped, segments respect the length limit, and 10 minutes of audio
// are segmented without copying the samples.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type SpeechSegment, segmentSpeech } from "../../src/audio/segment.ts";
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
