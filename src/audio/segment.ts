// Voice-activity segmentation for long audio (`nast translate`, `nast eval --segment`): the model was
// trained on sentence-length MuST-C segments (≤ 30 s, nast-lisa.md §1.1), so a talk is cut into pieces
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
// Memory is one Float64 per 10 ms (2.9 MB per hour), besides the samples themselves.

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

/** Runs of equal boolean values: [start, end) pairs of the runs whose value is `value`. */
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

/** Per-frame energy in dBFS of non-overlapping 10 ms frames (a partial last frame included). */
function frameEnergies(samples: Float32Array, hop: number): Float64Array {
  const count = Math.ceil(samples.length / hop);
  const db = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const start = f * hop;
    const end = Math.min(samples.length, start + hop);
    let sum = 0;
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    db[f] = 10 * Math.log10(sum / (end - start) + 1e-12);
  }
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

export interface ProbabilityOptions extends SegmentOptions {
  /** Speech starts at this probability (default 0.5, Silero VAD's default). */
  threshold?: number;
}

/**
 * Segmentation from per-frame speech probabilities (`hop` samples per frame): speech starts at
 * p ≥ threshold and goes on until p < threshold − 0.15, then the same smoothing, cutting and
 * padding as segmentSpeech, with long segments cut at their least speech-like point.
 */
export function segmentProbabilities(probs: ArrayLike<number>, hop: number, totalSamples: number, sampleRate: number, opts: ProbabilityOptions = {}): SpeechSegment[] {
  const on = opts.threshold ?? 0.5;
  const off = Math.max(on - NEG_THRESHOLD_OFFSET, 0.01);
  const voiced = new Uint8Array(probs.length);
  let speaking = false;
  for (let f = 0; f < probs.length; f++) {
    const p = probs[f]!;
    speaking = speaking ? p >= off : p >= on;
    voiced[f] = speaking ? 1 : 0;
  }
  return segmentFrames({ hop, voiced, score: probs }, totalSamples, sampleRate, opts);
}

/**
 * The detector-independent part: smoothing of the frame decisions, cutting at ≤ maxSeconds, padding,
 * and conversion to sample ranges within [0, totalSamples).
 */
export function segmentFrames(activity: FrameActivity, totalSamples: number, sampleRate: number, opts: SegmentOptions = {}): SpeechSegment[] {
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

/**
 * Where to cut inside frames [lo, hi): the longest unvoiced run (ties: lowest score, then latest),
 * returned as the pause [start, end) to drop; without any, the lowest-scoring `width` frames (an
 * empty pause at their middle).
 */
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
