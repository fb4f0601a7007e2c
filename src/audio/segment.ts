// Energy-based voice-activity segmentation for long audio (`nast translate`): the model was trained
// on sentence-length MuST-C segments (≤ 30 s, nast-lisa.md §1.1), so a talk is cut into pieces of at
// most ~20 s, at pauses. Steps, on 10 ms frames:
//  1. log energy per frame; the threshold sits 35% of the way from the noise floor (10th
//     percentile) to the speech level (99th percentile), so it adapts to the recording level;
//  2. pauses shorter than minPauseSeconds stay inside speech; speech bursts shorter than
//     minSpeechSeconds are dropped (clicks); the silence between segments is dropped;
//  3. a segment longer than maxSeconds is cut, within its last half, at the longest pause (ties: the
//     quietest, then the latest); only where there is no pause at all is it cut at the quietest
//     50 ms, so a word is split only when the speaker never pauses;
//  4. each segment gets padSeconds of context on both sides (never past half the gap).
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

const FRAME_SECONDS = 0.01;
/** Below this peak level (dBFS) the whole input counts as silence. */
const SILENCE_DBFS = -60;
/** With less contrast than this between speech level and noise floor nothing can be told apart. */
const MIN_CONTRAST_DB = 10;
const THRESHOLD_FRACTION = 0.35;

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

/** Splits speech regions into segments of at most ~maxSeconds and returns sample ranges. */
export function segmentSpeech(samples: Float32Array, sampleRate: number, opts: SegmentOptions = {}): SpeechSegment[] {
  const maxSeconds = opts.maxSeconds ?? 20;
  const hop = Math.max(1, Math.round(sampleRate * FRAME_SECONDS));
  const toFrames = (s: number) => Math.max(1, Math.round(s / FRAME_SECONDS));
  const maxFrames = toFrames(maxSeconds);
  const minPause = toFrames(opts.minPauseSeconds ?? 0.5);
  const minSpeech = toFrames(opts.minSpeechSeconds ?? 0.2);
  const pad = Math.round((opts.padSeconds ?? 0.1) / FRAME_SECONDS);
  if (samples.length === 0) return [];

  const db = frameEnergies(samples, hop);
  const sorted = Float64Array.from(db).sort();
  const noise = percentile(sorted, 0.1);
  const peak = percentile(sorted, 0.99);
  if (peak < SILENCE_DBFS) return [];
  const threshold = peak - noise < MIN_CONTRAST_DB ? -Infinity : noise + THRESHOLD_FRACTION * (peak - noise);

  // Raw voiced flags; `speech` is the smoothed version that defines the regions.
  const voiced = new Uint8Array(db.length);
  for (let f = 0; f < db.length; f++) voiced[f] = db[f]! > threshold ? 1 : 0;
  const speech = Uint8Array.from(voiced);
  for (const [a, b] of runs(speech, 0)) if (b - a < minPause && a > 0 && b < speech.length) speech.fill(1, a, b);
  for (const [a, b] of runs(speech, 1)) if (b - a < minSpeech) speech.fill(0, a, b);

  const pieces: Array<[number, number]> = [];
  for (const region of runs(speech, 1)) {
    let [a, b] = region;
    while (b - a > maxFrames) {
      const cut = bestCut(voiced, db, a + Math.floor(maxFrames / 2), a + maxFrames);
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
    const end = Math.min(db.length, b + Math.min(pad, Math.floor((nextStart - b) / 2)));
    out.push({ start: start * hop, end: Math.min(samples.length, end * hop) });
  }
  return out;
}

/**
 * Where to cut inside frames [lo, hi): the longest unvoiced run (ties: lowest energy, then latest),
 * returned as the pause [start, end) to drop; without any, the quietest 50 ms (an empty pause).
 */
function bestCut(voiced: Uint8Array, db: Float64Array, lo: number, hi: number): { start: number; end: number } {
  let best: { start: number; end: number; len: number; energy: number } | null = null;
  let f = lo;
  while (f < hi) {
    if (voiced[f]) {
      f++;
      continue;
    }
    const start = f;
    let energy = Infinity;
    while (f < hi && !voiced[f]) energy = Math.min(energy, db[f++]!);
    const len = f - start;
    if (best === null || len > best.len || (len === best.len && energy <= best.energy)) best = { start, end: f, len, energy };
  }
  if (best !== null) return { start: best.start, end: best.end };
  const width = 5;
  let quietest = lo;
  let quietestEnergy = Infinity;
  for (let g = lo; g + width <= hi; g++) {
    let e = 0;
    for (let k = 0; k < width; k++) e += db[g + k]!;
    if (e <= quietestEnergy) {
      quietestEnergy = e;
      quietest = g + Math.floor(width / 2);
    }
  }
  return { start: quietest, end: quietest };
}
