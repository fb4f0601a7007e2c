// Voice-activity segmentation for long audio (`nast translate`, `nast eval --segment`): the model was
// trained on sentence-length MuST-C segments (≤ 30 s, docs/model.md §2.1), so a talk is cut into pieces
// of at most ~20 s, at pauses. Two detectors give per-frame speech decisions, and one routine
// (segmentFrames) turns them into segments:
//  - energy (segmentSpeech, 10 ms frames): a frame is speech when its log energy is above a threshold
//    35% of the way from the noise floor (10th percentile of the frames) to the speech level (99th
//    percentile of the frames that stand out of the noise floor, see speechThreshold), so it adapts
//    to the recording level and does not depend on how much of the file is speech;
//  - a neural VAD's speech probabilities (segmentProbabilities, e.g. Silero VAD's 32 ms windows,
//    src/infer/vad.ts): speech starts at p ≥ threshold and ends below threshold − 0.15, the
//    hysteresis of Silero VAD's get_speech_timestamps (github.com/snakers4/silero-vad, utils_vad.py).
// Then, on the frames:
//  1. pauses shorter than minPauseSeconds stay inside speech; speech bursts shorter than
//     minSpeechSeconds are dropped (clicks); the silence between segments is dropped;
//  2. a segment longer than maxSeconds is cut, within its last half, at the longest pause (ties: the
//     lowest score, i.e. the quietest or least speech-like, then the latest); only where there is no
//     pause at all is it cut at the lowest-scoring ~50 ms, so a word is split only when the speaker
//     never pauses;
//  3. each segment gets padSeconds of context on both sides (never past half the gap).
// All of this works frame by frame (FrameSegmenter), so `nast translate` cuts audio as it streams by:
// only the energy threshold needs the whole recording (percentiles of all frame energies), and it is
// measured in a first pass (AudioMeter, one Float64 per 10 ms: 2.9 MB per hour); the segments are the
// same as those of the whole-array functions (segmentSpeech, segmentProbabilities, segmentFrames).

export interface SegmentOptions {
  /** Longest segment, seconds (default 20). */
  maxSeconds?: number;
  /** Pauses at least this long separate segments (default 0.5 s). */
  minPauseSeconds?: number;
  /** Speech shorter than this is ignored (default 0.2 s). */
  minSpeechSeconds?: number;
  /** Context kept around each segment (default 0.1 s). */
  padSeconds?: number;
}

export interface SpeechSegment {
  /** First sample (inclusive). */
  start: number;
  /** Last sample (exclusive). */
  end: number;
}

/** Per-frame speech decisions of a detector: the input of segmentFrames. */
export interface FrameActivity {
  /** Samples per frame (frame f covers samples [f·hop, (f+1)·hop)). */
  hop: number;
  /** 1 where the frame is speech, before smoothing. */
  voiced: Uint8Array;
  /** Where to cut an over-long segment: lower is better (energy in dB, speech probability). */
  score: ArrayLike<number>;
}

const FRAME_SECONDS = 0.01;
/**
 * Speech whose level (see speechThreshold) is below this (dBFS, RMS of 10 ms frames) counts as
 * silence: 10 dB above the quantisation noise of 16-bit audio (±½ LSB uniform, −101 dBFS), about
 * where a 16-bit recording keeps nothing intelligible.
 */
const SILENCE_DBFS = -90;
/**
 * Input without contrast (nothing stands out of the noise floor) is taken as one continuous stretch
 * of speech only above this level; below it, it is hiss or hum.
 */
const FLAT_SILENCE_DBFS = -60;
/** With less contrast than this between speech level and noise floor nothing can be told apart. */
const MIN_CONTRAST_DB = 10;
/**
 * Fewer frames than this (200 ms, the shortest speech kept) standing out of the noise floor are
 * clicks, not contrast: a click in speech that never pauses must not make the speech silence.
 */
const MIN_CONTRAST_FRAMES = 20;
const THRESHOLD_FRACTION = 0.35;
/** Hysteresis of Silero VAD's get_speech_timestamps: speech ends below threshold − 0.15. */
const NEG_THRESHOLD_OFFSET = 0.15;
/** Width of the window searched for the cut when a segment has no pause at all. */
const QUIET_WINDOW_SECONDS = 0.05;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(p * (sorted.length - 1))))]!;
}

/**
 * Energies in dBFS of non-overlapping frames of `hop` samples, fed block by block (a partial last frame
 * is measured on what it has, at finish()): each frame's value goes to `onFrame` as soon as it is
 * complete. The values do not depend on where the blocks begin and end.
 */
export class FrameEnergyMeter {
  private sum = 0;
  private filled = 0;

  constructor(
    readonly hop: number,
    private readonly onFrame: (db: number) => void,
  ) {}

  push(block: Float32Array): void {
    const hop = this.hop;
    let sum = this.sum;
    let filled = this.filled;
    for (let i = 0; i < block.length; i++) {
      sum += block[i]! * block[i]!;
      if (++filled === hop) {
        this.onFrame(10 * Math.log10(sum / hop + 1e-12));
        sum = 0;
        filled = 0;
      }
    }
    this.sum = sum;
    this.filled = filled;
  }

  finish(): void {
    if (this.filled > 0) this.onFrame(10 * Math.log10(this.sum / this.filled + 1e-12));
    this.sum = 0;
    this.filled = 0;
  }
}

/** Per-frame energy in dBFS of non-overlapping 10 ms frames (a partial last frame included). */
function frameEnergies(samples: Float32Array, hop: number): Float64Array {
  const db = new Float64Array(Math.ceil(samples.length / hop));
  let f = 0;
  const meter = new FrameEnergyMeter(hop, (x) => (db[f++] = x));
  meter.push(samples);
  meter.finish();
  return db;
}

export interface EnergyLevels {
  /** Noise floor: 10th percentile of the 10 ms frame energies, dBFS. */
  noiseDb: number;
  /**
   * Speech level: 99th percentile of the frames more than MIN_CONTRAST_DB above the noise floor, or of
   * all frames when none is (then `contrast` is false), dBFS.
   */
  speechDb: number;
  contrast: boolean;
  /** Frames above it are speech: −Infinity (all speech), +Infinity (none), or in between. */
  threshold: number;
}

/**
 * The energy threshold of a recording. The speech level is taken among the frames that stand out of
 * the noise floor, not among all frames: with the 99th percentile of all frames, a file whose speech
 * fills less than 1% of it (a short talk after a long silence, a long recording with little speech)
 * had its speech level in the silence and gave no segment at all.
 */
export function speechThreshold(db: Float64Array): EnergyLevels {
  const sorted = Float64Array.from(db).sort();
  const noiseDb = percentile(sorted, 0.1);
  let k = 0;
  while (k < sorted.length && sorted[k]! <= noiseDb + MIN_CONTRAST_DB) k++;
  const above = sorted.subarray(k);
  const contrast = above.length >= MIN_CONTRAST_FRAMES;
  if (!contrast) {
    // Nothing stands out: either silence, hiss, or speech that never pauses (taken whole).
    const speechDb = percentile(sorted, 0.99);
    return { noiseDb, speechDb, contrast, threshold: speechDb < FLAT_SILENCE_DBFS ? Infinity : -Infinity };
  }
  const speechDb = percentile(above, 0.99);
  const threshold = speechDb < SILENCE_DBFS ? Infinity : noiseDb + THRESHOLD_FRACTION * (speechDb - noiseDb);
  return { noiseDb, speechDb, contrast, threshold };
}

/** Energy levels of 16 kHz (or any rate) samples, as the energy segmenter sees them. */
export function energyLevels(samples: Float32Array, sampleRate: number): EnergyLevels {
  return speechThreshold(frameEnergies(samples, Math.max(1, Math.round(sampleRate * FRAME_SECONDS))));
}

/** Sample peak in dBFS (−Infinity for digital silence). */
export function peakDbfs(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]!));
  return 20 * Math.log10(peak);
}

/** What the segmenters need to know of a whole recording before they cut it as it streams by. */
export interface AudioStats {
  /** Samples in the recording. */
  samples: number;
  sampleRate: number;
  /** Sample peak, dBFS (−Infinity for digital silence), as peakDbfs. */
  peakDbfs: number;
  /** The energy segmenter's levels of the whole recording, as energyLevels. */
  levels: EnergyLevels;
}

/**
 * A first pass over a recording, block by block: its length, peak and energy levels (the same values as
 * peakDbfs and energyLevels of the whole). The levels are percentiles of all 10 ms frame energies, so
 * these (one Float64 per 10 ms, 2.9 MB per hour of audio) are kept until finish(); the samples are not.
 */
export class AudioMeter {
  private count = 0;
  private peak = 0;
  private db = new Float64Array(4096);
  private frames = 0;
  private stats: AudioStats | null = null;
  private readonly meter: FrameEnergyMeter;

  constructor(readonly sampleRate: number) {
    this.meter = new FrameEnergyMeter(Math.max(1, Math.round(sampleRate * FRAME_SECONDS)), (x) => {
      if (this.frames === this.db.length) {
        const grown = new Float64Array(this.db.length * 2);
        grown.set(this.db);
        this.db = grown;
      }
      this.db[this.frames++] = x;
    });
  }

  push(block: Float32Array): void {
    if (this.stats !== null) throw new Error("AudioMeter.push after finish");
    this.count += block.length;
    let peak = this.peak;
    for (let i = 0; i < block.length; i++) peak = Math.max(peak, Math.abs(block[i]!));
    this.peak = peak;
    this.meter.push(block);
  }

  /** The stats of everything pushed (once called, the meter is done: later calls give the same). */
  finish(): AudioStats {
    if (this.stats === null) {
      this.meter.finish();
      const levels = speechThreshold(this.db.subarray(0, this.frames));
      this.db = new Float64Array(0);
      this.stats = { samples: this.count, sampleRate: this.sampleRate, peakDbfs: 20 * Math.log10(this.peak), levels };
    }
    return this.stats;
  }
}

/** Energy-based segmentation: splits speech regions into segments of at most ~maxSeconds. */
export function segmentSpeech(samples: Float32Array, sampleRate: number, opts: SegmentOptions = {}): SpeechSegment[] {
  if (samples.length === 0) return [];
  const hop = Math.max(1, Math.round(sampleRate * FRAME_SECONDS));
  const db = frameEnergies(samples, hop);
  const { threshold } = speechThreshold(db);
  if (threshold === Infinity) return [];
  const voiced = new Uint8Array(db.length);
  for (let f = 0; f < db.length; f++) voiced[f] = db[f]! > threshold ? 1 : 0;
  return segmentFrames({ hop, voiced, score: db }, samples.length, sampleRate, opts);
}

/**
 * The energy segmenter on a recording that streams by in blocks, with the levels of the whole measured
 * beforehand (AudioMeter): the same segments as segmentSpeech, each returned as soon as it is final.
 */
export class EnergyStream {
  private readonly meter: FrameEnergyMeter;
  private readonly frames: FrameSegmenter;

  constructor(stats: AudioStats, opts: SegmentOptions = {}) {
    const hop = Math.max(1, Math.round(stats.sampleRate * FRAME_SECONDS));
    const threshold = stats.levels.threshold;
    const frames = new FrameSegmenter(hop, Math.ceil(stats.samples / hop), stats.samples, stats.sampleRate, opts);
    this.frames = frames;
    this.meter = new FrameEnergyMeter(hop, (db) => frames.push(db > threshold ? 1 : 0, db));
  }

  /** Feeds the next block; returns the segments that became final. */
  push(block: Float32Array): SpeechSegment[] {
    this.meter.push(block);
    return this.frames.take();
  }

  /** After the last block: the remaining segments. */
  finish(): SpeechSegment[] {
    this.meter.finish();
    this.frames.finish();
    return this.frames.take();
  }

  /** No segment still to come starts before this sample. */
  get keepFrom(): number {
    return this.frames.keepFrom;
  }
}

export interface ProbabilityOptions extends SegmentOptions {
  /** Speech starts at this probability (default 0.5, Silero VAD's default). */
  threshold?: number;
}

/** Speech decisions from probabilities, frame by frame: on at p ≥ threshold, off below threshold − 0.15. */
export class Hysteresis {
  private readonly on: number;
  private readonly off: number;
  private speaking = false;

  constructor(threshold = 0.5) {
    this.on = threshold;
    this.off = Math.max(threshold - NEG_THRESHOLD_OFFSET, 0.01);
  }

  next(p: number): number {
    this.speaking = this.speaking ? p >= this.off : p >= this.on;
    return this.speaking ? 1 : 0;
  }
}

/**
 * Segmentation from per-frame speech probabilities (`hop` samples per frame): speech starts at
 * p ≥ threshold and goes on until p < threshold − 0.15, then the same smoothing, cutting and
 * padding as segmentSpeech, with long segments cut at their least speech-like point.
 */
export function segmentProbabilities(probs: ArrayLike<number>, hop: number, totalSamples: number, sampleRate: number, opts: ProbabilityOptions = {}): SpeechSegment[] {
  const hysteresis = new Hysteresis(opts.threshold);
  const voiced = new Uint8Array(probs.length);
  for (let f = 0; f < probs.length; f++) voiced[f] = hysteresis.next(probs[f]!);
  return segmentFrames({ hop, voiced, score: probs }, totalSamples, sampleRate, opts);
}

/**
 * The detector-independent part: smoothing of the frame decisions, cutting at ≤ maxSeconds, padding,
 * and conversion to sample ranges within [0, totalSamples).
 */
export function segmentFrames(activity: FrameActivity, totalSamples: number, sampleRate: number, opts: SegmentOptions = {}): SpeechSegment[] {
  const { hop, voiced, score } = activity;
  if (voiced.length === 0 || totalSamples === 0) return [];
  const frames = new FrameSegmenter(hop, voiced.length, totalSamples, sampleRate, opts);
  for (let f = 0; f < voiced.length; f++) frames.push(voiced[f]!, score[f]!);
  frames.finish();
  return frames.take();
}

/**
 * segmentFrames one frame at a time, for audio that streams by: the frame count and sample count of the
 * whole recording are known beforehand, the frames are not. The rules above are all local:
 *  1. a pause is kept inside speech when it is shorter than minPause frames and lies between speech
 *     frames, so a region ends as soon as a pause reaches minPause frames (or at the last frame), and
 *     it is dropped then if it is shorter than minSpeech frames;
 *  2. a region longer than maxFrames is cut in [a + maxFrames/2, a + maxFrames) as soon as a speech
 *     frame at a + maxFrames or later belongs to it (the cut looks at those frames only);
 *  3. a piece's padding depends on the end of the piece before it and on the start of the one after
 *     it, but only while that start is less than 2·pad frames away.
 * So a segment is final (take()) at most minPause + max(minSpeech + 2·pad, maxFrames/2) frames after its
 * end (maxFrames/2: a piece cut out of a long region is known when speech goes on maxFrames past the
 * piece's start), and only the frames of the open region, at most maxFrames + minPause, are held.
 */
export class FrameSegmenter {
  private readonly maxFrames: number;
  private readonly minPause: number;
  private readonly minSpeech: number;
  private readonly pad: number;
  private readonly quietWidth: number;
  /** Frames pushed so far. */
  private f = 0;
  /** Frames [base, base + len) of the open region, from the start of its current piece. */
  private base = 0;
  private len = 0;
  private voiced = new Uint8Array(1024);
  private score = new Float64Array(1024);
  /** The open region (−1: none): its first frame, its current piece's first frame, its last speech frame, and where the pause after it began. */
  private regionStart = -1;
  private pieceStart = -1;
  private lastVoiced = -1;
  private pauseStart = -1;
  /** The last piece, whose padded end waits for the start of the next one. */
  private pending: { a: number; b: number; start: number } | null = null;
  private prevEnd = -Infinity;
  private ready: SpeechSegment[] = [];

  constructor(
    readonly hop: number,
    readonly frames: number,
    readonly totalSamples: number,
    sampleRate: number,
    opts: SegmentOptions = {},
  ) {
    const frameSeconds = hop / sampleRate;
    const toFrames = (s: number) => Math.max(1, Math.round(s / frameSeconds));
    this.maxFrames = toFrames(opts.maxSeconds ?? 20);
    this.minPause = toFrames(opts.minPauseSeconds ?? 0.5);
    this.minSpeech = toFrames(opts.minSpeechSeconds ?? 0.2);
    this.pad = Math.round((opts.padSeconds ?? 0.1) / frameSeconds);
    this.quietWidth = toFrames(QUIET_WINDOW_SECONDS);
  }

  /** The next frame's decision (1: speech) and score (lower: a better place to cut). */
  push(voiced: number, score: number): void {
    const f = this.f;
    if (f >= this.frames) throw new RangeError(`frame ${f} pushed, but the recording has ${this.frames} frames`);
    if (voiced) {
      if (this.regionStart < 0) {
        this.regionStart = this.pieceStart = this.base = f;
        this.len = 0;
      }
      this.lastVoiced = f;
      this.pauseStart = -1;
    } else if (this.regionStart >= 0 && this.pauseStart < 0) {
      this.pauseStart = f;
    }
    if (this.regionStart >= 0) this.store(voiced ? 1 : 0, score);
    this.f = f + 1;
    if (voiced) this.cutLongRegion();
    else if (this.regionStart >= 0 && this.f - this.pauseStart >= this.minPause) this.closeRegion();
    this.settlePending();
  }

  /** After the last frame (exactly `frames` of them). */
  finish(): void {
    if (this.f !== this.frames) throw new RangeError(`${this.f} frames pushed, but the recording has ${this.frames} frames`);
    if (this.regionStart >= 0) this.closeRegion();
    if (this.pending) this.emit(Infinity);
  }

  /** The segments that became final since the last call, in order. */
  take(): SpeechSegment[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** No segment that take() has not returned yet starts before this sample. */
  get keepFrom(): number {
    let first = ((this.regionStart >= 0 ? this.pieceStart : this.f) - Math.max(0, this.pad)) * this.hop;
    if (this.pending) first = Math.min(first, this.pending.start * this.hop);
    if (this.ready.length > 0) first = Math.min(first, this.ready[0]!.start);
    return Math.max(0, Math.min(this.totalSamples, first));
  }

  private store(voiced: number, score: number): void {
    if (this.len === this.voiced.length) {
      const v = new Uint8Array(this.len * 2);
      v.set(this.voiced);
      this.voiced = v;
      const s = new Float64Array(this.len * 2);
      s.set(this.score);
      this.score = s;
    }
    this.voiced[this.len] = voiced;
    this.score[this.len] = score;
    this.len++;
  }

  /** Forgets the held frames before `frame`. */
  private dropBefore(frame: number): void {
    const k = frame - this.base;
    if (k <= 0) return;
    this.voiced.copyWithin(0, k, this.len);
    this.score.copyWithin(0, k, this.len);
    this.len -= k;
    this.base = frame;
  }

  private cutLongRegion(): void {
    while (this.lastVoiced + 1 - this.pieceStart > this.maxFrames && this.lastVoiced + 1 - this.regionStart >= this.minSpeech) {
      const a = this.pieceStart;
      const cut = bestCut(this.voiced, this.score, a + Math.floor(this.maxFrames / 2), a + this.maxFrames, this.quietWidth, this.base);
      this.piece(a, cut.start);
      this.pieceStart = cut.end;
      this.dropBefore(cut.end);
    }
  }

  private closeRegion(): void {
    const b = this.lastVoiced + 1;
    this.cutLongRegion();
    if (b - this.regionStart >= this.minSpeech) this.piece(this.pieceStart, b);
    this.regionStart = this.pieceStart = this.lastVoiced = this.pauseStart = -1;
    this.len = 0;
  }

  private piece(a: number, b: number): void {
    if (this.pending) this.emit(a);
    this.pending = { a, b, start: Math.max(0, a - Math.min(this.pad, Math.floor((a - this.prevEnd) / 2))) };
  }

  /** Pads the pending piece's end given the start of the next piece, and converts it to samples. */
  private emit(nextStart: number): void {
    const p = this.pending!;
    const end = Math.min(this.frames, p.b + Math.min(this.pad, Math.floor((nextStart - p.b) / 2)));
    const first = Math.min(this.totalSamples, p.start * this.hop);
    const last = Math.min(this.totalSamples, end * this.hop);
    if (last > first) this.ready.push({ start: first, end: last });
    this.prevEnd = p.b;
    this.pending = null;
  }

  /**
   * The next piece starts at `pieceStart` when the open region is long enough to be kept, at or after it
   * while that is not known yet, and at or after the next frame when no region is open.
   */
  private settlePending(): void {
    if (!this.pending) return;
    const open = this.regionStart >= 0;
    if (open && this.lastVoiced + 1 - this.regionStart >= this.minSpeech) return this.emit(this.pieceStart);
    const next = open ? this.pieceStart : this.f;
    if (next - this.pending.b >= 2 * this.pad) this.emit(next);
  }
}

/**
 * Where to cut inside frames [lo, hi): the longest unvoiced run (ties: lowest score, then latest),
 * returned as the pause [start, end) to drop; without any, the lowest-scoring `width` frames (an
 * empty pause at their middle). `voiced` and `score` hold frames from `base` on.
 */
function bestCut(voiced: Uint8Array, score: ArrayLike<number>, lo: number, hi: number, width: number, base = 0): { start: number; end: number } {
  let best: { start: number; end: number; len: number; low: number } | null = null;
  let f = lo;
  while (f < hi) {
    if (voiced[f - base]) {
      f++;
      continue;
    }
    const start = f;
    let low = Infinity;
    while (f < hi && !voiced[f - base]) low = Math.min(low, score[f++ - base]!);
    const len = f - start;
    if (best === null || len > best.len || (len === best.len && low <= best.low)) best = { start, end: f, len, low };
  }
  if (best !== null) return { start: best.start, end: best.end };
  let quietest = lo;
  let quietestScore = Infinity;
  for (let g = lo; g + width <= hi; g++) {
    let e = 0;
    for (let k = 0; k < width; k++) e += score[g + k - base]!;
    if (e <= quietestScore) {
      quietestScore = e;
      quietest = g + Math.floor(width / 2);
    }
  }
  return { start: quietest, end: quietest };
}
