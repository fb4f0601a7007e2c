// The streaming segmenter (FrameSegmenter, EnergyStream, AudioMeter) against the whole-array algorithm:
// random frame decisions, options and block sizes give exactly the segments of the implementation that
// held the whole recording (kept below as the reference), each segment is final no later than a pause
// plus the shortest speech or twice the padding after its end, and `keepFrom` never passes the start of a segment still to come.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AudioMeter, EnergyStream, energyLevels, FrameSegmenter, peakDbfs, segmentFrames, segmentSpeech, type SegmentOptions, type SpeechSegment } from "../../src/audio/segment.ts";
import { Rng } from "../../src/util/rng.ts";
import { randomBlocks } from "../helpers/blocks.ts";

const QUIET_WINDOW_SECONDS = 0.05;

// The whole-array segmentation as it was before it worked frame by frame (the reference).
function runs(flags: Uint8Array, value: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < flags.length) {
    if (flags[i] !== value) {
      i++;
      continue;
    }
    const start = i;
    while (i < flags.length && flags[i] === value) i++;
    out.push([start, i]);
  }
  return out;
}

function referenceSegmentFrames(activity: { hop: number; voiced: Uint8Array; score: ArrayLike<number> }, totalSamples: number, sampleRate: number, opts: SegmentOptions = {}): SpeechSegment[] {
  const { hop, voiced, score } = activity;
  const frameSeconds = hop / sampleRate;
  const toFrames = (s: number) => Math.max(1, Math.round(s / frameSeconds));
  const maxFrames = toFrames(opts.maxSeconds ?? 20);
  const minPause = toFrames(opts.minPauseSeconds ?? 0.5);
  const minSpeech = toFrames(opts.minSpeechSeconds ?? 0.2);
  const pad = Math.round((opts.padSeconds ?? 0.1) / frameSeconds);
  const quietWidth = toFrames(QUIET_WINDOW_SECONDS);
  const frames = voiced.length;
  if (frames === 0 || totalSamples === 0) return [];

  // `speech` is the smoothed version of `voiced` that defines the regions.
  const speech = Uint8Array.from(voiced);
  for (const [a, b] of runs(speech, 0)) if (b - a < minPause && a > 0 && b < speech.length) speech.fill(1, a, b);
  for (const [a, b] of runs(speech, 1)) if (b - a < minSpeech) speech.fill(0, a, b);

  const pieces: Array<[number, number]> = [];
  for (const region of runs(speech, 1)) {
    let [a, b] = region;
    while (b - a > maxFrames) {
      const cut = bestCut(voiced, score, a + Math.floor(maxFrames / 2), a + maxFrames, quietWidth);
      pieces.push([a, cut.start]);
      a = cut.end;
    }
    pieces.push([a, b]);
  }

  // Padding, never past half the gap to a neighbour, then to sample indices.
  const out: SpeechSegment[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const [a, b] = pieces[i]!;
    const prevEnd = i > 0 ? pieces[i - 1]![1] : -Infinity;
    const nextStart = i + 1 < pieces.length ? pieces[i + 1]![0] : Infinity;
    const start = Math.max(0, a - Math.min(pad, Math.floor((a - prevEnd) / 2)));
    const end = Math.min(frames, b + Math.min(pad, Math.floor((nextStart - b) / 2)));
    const first = Math.min(totalSamples, start * hop);
    const last = Math.min(totalSamples, end * hop);
    if (last > first) out.push({ start: first, end: last });
  }
  return out;
}

function bestCut(voiced: Uint8Array, score: ArrayLike<number>, lo: number, hi: number, width: number): { start: number; end: number } {
  let best: { start: number; end: number; len: number; low: number } | null = null;
  let f = lo;
  while (f < hi) {
    if (voiced[f]) {
      f++;
      continue;
    }
    const start = f;
    let low = Infinity;
    while (f < hi && !voiced[f]) low = Math.min(low, score[f++]!);
    const len = f - start;
    if (best === null || len > best.len || (len === best.len && low <= best.low)) best = { start, end: f, len, low };
  }
  if (best !== null) return { start: best.start, end: best.end };
  let quietest = lo;
  let quietestScore = Infinity;
  for (let g = lo; g + width <= hi; g++) {
    let e = 0;
    for (let k = 0; k < width; k++) e += score[g + k]!;
    if (e <= quietestScore) {
      quietestScore = e;
      quietest = g + Math.floor(width / 2);
    }
  }
  return { start: quietest, end: quietest };
}

/** Runs of speech and pause frames with random lengths (some shorter than the thresholds). */
function randomFrames(rng: Rng, frames: number): { voiced: Uint8Array; score: Float64Array } {
  const voiced = new Uint8Array(frames);
  const score = new Float64Array(frames);
  let f = 0;
  let on = rng.uniform() < 0.5;
  while (f < frames) {
    const len = 1 + Math.floor(rng.uniform() * (rng.uniform() < 0.3 ? 8 : 120));
    voiced.fill(on ? 1 : 0, f, Math.min(frames, f + len));
    f += len;
    on = !on;
  }
  // Few distinct scores, so that ties between cut candidates happen.
  for (let g = 0; g < frames; g++) score[g] = Math.floor(rng.uniform() * 6) - (voiced[g] ? 0 : 20);
  return { voiced, score };
}

function randomOptions(rng: Rng): SegmentOptions {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng.uniform() * xs.length)]!;
  return {
    maxSeconds: pick([0.3, 1, 2.5, 4, 20]),
    minPauseSeconds: pick([0.01, 0.1, 0.5, 1]),
    minSpeechSeconds: pick([0.01, 0.2, 0.6, 3]),
    padSeconds: pick([0, 0.03, 0.1, 0.4]),
  };
}

test("FrameSegmenter gives exactly the whole-array segments (2,000 random recordings and options)", () => {
  const rng = new Rng(11);
  const rate = 16000;
  for (let trial = 0; trial < 2000; trial++) {
    const hop = rng.uniform() < 0.5 ? 160 : 512;
    const frames = 1 + Math.floor(rng.uniform() * 1500);
    const { voiced, score } = randomFrames(rng, frames);
    // Sometimes the last frame is partial, or the frames cover less than the samples.
    const total = frames * hop - Math.floor(rng.uniform() * (rng.uniform() < 0.5 ? hop : 3 * hop));
    const opts = randomOptions(rng);
    const expected = referenceSegmentFrames({ hop, voiced, score }, Math.max(0, total), rate, opts);
    assert.deepEqual(segmentFrames({ hop, voiced, score }, Math.max(0, total), rate, opts), expected, `trial ${trial}: ${JSON.stringify(opts)}`);
  }
});

test("FrameSegmenter: segments come out soon after their end; keepFrom never passes one still to come", () => {
  const rng = new Rng(12);
  const rate = 16000;
  const hop = 160;
  for (let trial = 0; trial < 300; trial++) {
    const frames = 200 + Math.floor(rng.uniform() * 3000);
    const { voiced, score } = randomFrames(rng, frames);
    const opts = randomOptions(rng);
    const seg = new FrameSegmenter(hop, frames, frames * hop, rate, opts);
    const keep: number[] = [];
    const out: { segment: SpeechSegment; frame: number }[] = [];
    for (let f = 0; f < frames; f++) {
      seg.push(voiced[f]!, score[f]!);
      for (const s of seg.take()) out.push({ segment: s, frame: f + 1 });
      keep.push(seg.keepFrom);
    }
    seg.finish();
    for (const s of seg.take()) out.push({ segment: s, frame: frames });
    assert.deepEqual(out.map((o) => o.segment), referenceSegmentFrames({ hop, voiced, score }, frames * hop, rate, opts));
    const minPause = Math.max(1, Math.round((opts.minPauseSeconds ?? 0.5) / 0.01));
    const minSpeech = Math.max(1, Math.round((opts.minSpeechSeconds ?? 0.2) / 0.01));
    const maxFrames = Math.max(1, Math.round((opts.maxSeconds ?? 20) / 0.01));
    const pad = Math.round((opts.padSeconds ?? 0.1) / 0.01);
    for (const { segment, frame } of out) {
      // A pause ends a region; its padding waits for 2·pad frames, or for a region that starts within
      // them to be long enough; a piece cut out of a long region is known when speech goes on maxFrames
      // past the piece's start (after a pause, maybe).
      const lag = minPause + Math.max(minSpeech + 2 * pad, Math.ceil(maxFrames / 2));
      assert.ok(frame <= Math.min(frames, segment.end / hop + lag + 1), `trial ${trial}: segment ${JSON.stringify(segment)} final only at frame ${frame} (${JSON.stringify(opts)})`);
      for (let f = 0; f < frame - 1; f++) assert.ok(keep[f]! <= segment.start, `trial ${trial}: keepFrom ${keep[f]} after frame ${f} passes segment ${JSON.stringify(segment)}`);
    }
  }
});

/** A recording of bursts of tone and noise between silences of random lengths, at a random level. */
function randomRecording(rng: Rng, seconds: number, rate: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  const level = 10 ** (-(rng.uniform() * 50) / 20);
  let i = 0;
  while (i < x.length) {
    const speech = Math.round((0.1 + rng.uniform() * (rng.uniform() < 0.1 ? 30 : 4)) * rate);
    for (let k = i; k < Math.min(x.length, i + speech); k++) x[k] = level * (0.5 * Math.sin(k * 0.07) + 0.3 * (rng.uniform() - 0.5));
    i += speech + Math.round(rng.uniform() * 1.5 * rate);
    for (let k = i - Math.round(rng.uniform() * 0.3 * rate); k < Math.min(x.length, i); k++) if (k >= 0) x[k] = 1e-4 * level * (rng.uniform() - 0.5);
  }
  return x;
}

/** `samples` in blocks of random sizes (1 sample up to 3 s). */
const blocks = (rng: Rng, samples: Float32Array) => randomBlocks(rng, samples, 200, 48000);

test("AudioMeter and EnergyStream over random blocks: the levels, peak and segments of the whole recording", () => {
  const rng = new Rng(13);
  const rate = 16000;
  for (let trial = 0; trial < 12; trial++) {
    const samples = randomRecording(rng, 5 + rng.uniform() * 80, rate);
    const meter = new AudioMeter(rate);
    for (const b of blocks(rng, samples)) meter.push(b);
    const stats = meter.finish();
    assert.equal(stats.samples, samples.length);
    assert.equal(stats.peakDbfs, peakDbfs(samples));
    assert.deepEqual(stats.levels, energyLevels(samples, rate));
    const opts = trial % 2 === 0 ? {} : { maxSeconds: 3 + rng.uniform() * 10 };
    const stream = new EnergyStream(stats, opts);
    const got: SpeechSegment[] = [];
    let seen = 0;
    for (const b of blocks(rng, samples)) {
      got.push(...stream.push(b));
      seen += b.length;
      assert.ok(stream.keepFrom <= seen, "keepFrom is never ahead of the samples seen");
    }
    got.push(...stream.finish());
    assert.deepEqual(got, segmentSpeech(samples, rate, opts), `trial ${trial}`);
  }
});
