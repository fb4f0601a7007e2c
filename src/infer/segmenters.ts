// Segmenters for long audio behind one interface (Segmenter): Silero VAD (github.com/snakers4/silero-vad, MIT;
// a small LSTM network that gives the probability of speech in each 32 ms window) on an onnxruntime session,
// and the energy segmenter of src/audio/segment.ts. Both turn their frame decisions into segments with the
// same rules (src/audio/segment.ts: segmentFrames). The Silero model file, the details of its interface and
// why it is amplified are ./vad.ts's. This module frames the windows (context, gain, padding) and hands them
// on in runs to a SileroNetwork: on onnxruntime-node the sequence graph that runs a whole run in one call
// (./silero-sequence.ts, loaded by ./vad.ts), on the browser page the shipped model window by window
// (src/web/silero-windows.ts). It has no node:* imports, so the page runs the same segmenter on onnxruntime-web.
import {
  EnergyStream,
  FrameSegmenter,
  Hysteresis,
  energyLevels,
  segmentProbabilities,
  segmentSpeech,
  type AudioStats,
  type SegmentOptions,
  type SpeechSegment,
} from "../audio/segment.ts";

export const SEGMENTERS = ["silero", "energy"] as const;
export type SegmenterName = (typeof SEGMENTERS)[number];

export interface Segmenter {
  readonly name: SegmenterName;
  /** Speech segments of mono samples at `sampleRate` (Silero: 16 kHz only), in order, not overlapping. */
  segment(samples: Float32Array, sampleRate: number, opts?: SegmentOptions): Promise<SpeechSegment[]>;
  /**
   * The same segments of a recording that streams by in blocks, given the stats of the whole recording
   * (AudioMeter, a first pass over it): each segment is returned as soon as it is final.
   */
  open(stats: AudioStats, opts?: SegmentOptions): SegmentStream;
  release(): Promise<void>;
}

/** One recording being segmented as it streams by (Segmenter.open). */
export interface SegmentStream {
  /** Feeds the next block of samples; resolves to the segments that became final. */
  push(block: Float32Array): Promise<SpeechSegment[]>;
  /** After the last block: the remaining segments. */
  finish(): Promise<SpeechSegment[]>;
  /** No segment still to come starts before this sample: earlier samples can be let go. */
  readonly keepFrom: number;
}

/** The energy segmenter (src/audio/segment.ts) behind the Segmenter interface. */
export const energySegmenter: Segmenter = {
  name: "energy",
  segment: async (samples, sampleRate, opts) => segmentSpeech(samples, sampleRate, opts),
  open: (stats, opts) => {
    const stream = new EnergyStream(stats, opts);
    return {
      push: async (block) => stream.push(block),
      finish: async () => stream.finish(),
      get keepFrom() {
        return stream.keepFrom;
      },
    };
  },
  release: async () => {},
};

export const SILERO_RATE = 16000;
/** Samples per window at 16 kHz (32 ms): the only window size v5 accepts. */
export const SILERO_WINDOW = 512;
/** v5/v6 see the last 64 samples of the previous window in front of each window. */
const CONTEXT = 64;
/** Samples of one window as the network takes it: the context, then the window. */
export const SILERO_ROW = CONTEXT + SILERO_WINDOW;
/**
 * Most windows handed to the network at once: bounds what a run holds (2,048 rows of 576 floats, 4.7 MB, 65 s
 * of audio) however much audio one call brings.
 */
export const SILERO_RUN = 2048;
/** Quieter speech (dBFS RMS, the energy segmenter's speech level) is amplified to this level for the VAD. */
const TARGET_SPEECH_DBFS = -20;
/** The most gain applied (dB): digital silence and faint hiss stay faint. */
const MAX_GAIN_DB = 60;

/** The gain that brings quiet input to TARGET_SPEECH_DBFS (never below 1). */
export function vadGain(samples: Float32Array, sampleRate: number): number {
  return gainFor(energyLevels(samples, sampleRate).speechDb);
}

/** vadGain from the speech level (dBFS RMS, the energy segmenter's). */
function gainFor(speechDb: number): number {
  return 10 ** (Math.min(MAX_GAIN_DB, Math.max(0, TARGET_SPEECH_DBFS - speechDb)) / 20);
}

/**
 * Speech probabilities of the next `count` windows of one recording: `rows` holds them, SILERO_ROW samples each
 * (the last 64 samples of the window before, then the window). The LSTM state is carried from each window to
 * the next, across calls.
 */
export type SileroRun = (rows: Float32Array, count: number) => Promise<Float32Array>;

/** Silero VAD's network on a loaded session. */
export interface SileroNetwork {
  /** The model file, named in errors. */
  readonly path: string;
  /** A run over one recording, from the zero state of its first window. */
  start(): SileroRun;
  release(): Promise<void>;
}

/** Silero VAD on a loaded network (./vad.ts: SileroVad.load on onnxruntime-node; src/web on onnxruntime-web). */
export class SileroSegmenter implements Segmenter {
  readonly name = "silero";

  constructor(private readonly network: SileroNetwork) {}

  get path(): string {
    return this.network.path;
  }

  /**
   * Speech probability of each 512-sample window of 16 kHz samples (the last one zero-padded), the
   * samples multiplied by `gain` (and clipped to [-1, 1]) on the way in.
   */
  async probabilities(samples: Float32Array, gain = 1): Promise<Float32Array> {
    const probs = new Float32Array(Math.ceil(samples.length / SILERO_WINDOW));
    let w = 0;
    const windows = new SileroWindows(this.network.start(), gain, probs.length);
    await windows.push(samples, (p) => void (probs[w++] = p));
    await windows.finish((p) => void (probs[w++] = p));
    return probs;
  }

  async segment(samples: Float32Array, sampleRate: number, opts: SegmentOptions = {}): Promise<SpeechSegment[]> {
    if (sampleRate !== SILERO_RATE) throw new RangeError(`Silero VAD runs on ${SILERO_RATE} Hz audio, got ${sampleRate} Hz`);
    if (samples.length === 0) return [];
    const probs = await this.probabilities(samples, vadGain(samples, sampleRate));
    return segmentProbabilities(probs, SILERO_WINDOW, samples.length, sampleRate, opts);
  }

  /** segment() on a stream: the gain comes from the stats' speech level, the same as vadGain's. */
  open(stats: AudioStats, opts: SegmentOptions = {}): SegmentStream {
    if (stats.sampleRate !== SILERO_RATE) throw new RangeError(`Silero VAD runs on ${SILERO_RATE} Hz audio, got ${stats.sampleRate} Hz`);
    const count = Math.ceil(stats.samples / SILERO_WINDOW);
    const windows = new SileroWindows(this.network.start(), gainFor(stats.levels.speechDb), count);
    const frames = new FrameSegmenter(SILERO_WINDOW, count, stats.samples, stats.sampleRate, opts);
    const hysteresis = new Hysteresis();
    const onProb = (p: number): void => frames.push(hysteresis.next(p), p);
    return {
      push: async (block) => {
        await windows.push(block, onProb);
        return frames.take();
      },
      finish: async () => {
        if (stats.samples > 0) {
          await windows.finish(onProb);
          frames.finish();
        }
        return frames.take();
      },
      get keepFrom() {
        return frames.keepFrom;
      },
    };
  }

  async release(): Promise<void> {
    await this.network.release();
  }
}

/**
 * Silero VAD over one recording as its samples arrive, framed as Silero's OnnxWrapper frames it
 * (github.com/snakers4/silero-vad, src/silero_vad/utils_vad.py): each 512-sample window is preceded by the
 * last 64 samples of the window before (zeros before the first), scaled by `gain` and clipped, and the last
 * window is zero-padded (finish). The windows that a push completes go to the network together, in runs of at
 * most SILERO_RUN; a window still incomplete waits for the next push.
 */
class SileroWindows {
  /** The windows of the current run, and after the complete ones the one being filled. */
  private readonly rows: Float32Array;
  /** Windows the rows can hold. */
  private readonly capacity: number;
  /** Complete windows in the rows. */
  private count = 0;
  /** Samples of the window being filled. */
  private fill = 0;
  /** The last 64 samples (as scaled) of the last complete window: the next one's context. */
  private readonly tail = new Float32Array(CONTEXT);

  /** `windows`: how many the recording has (the rows are never made larger than that). */
  constructor(
    private readonly run: SileroRun,
    private readonly gain: number,
    windows: number,
  ) {
    this.capacity = Math.max(1, Math.min(SILERO_RUN, windows));
    this.rows = new Float32Array(this.capacity * SILERO_ROW);
  }

  /** Adds samples; `onProb` gets the speech probability of each window they complete, in order. */
  async push(samples: Float32Array, onProb: (p: number) => void): Promise<void> {
    let i = 0;
    while (i < samples.length) {
      const row = this.count * SILERO_ROW;
      if (this.fill === 0) this.rows.set(this.tail, row);
      const take = Math.min(SILERO_WINDOW - this.fill, samples.length - i);
      this.put(samples.subarray(i, i + take), row + CONTEXT + this.fill);
      this.fill += take;
      i += take;
      if (this.fill === SILERO_WINDOW) {
        this.tail.set(this.rows.subarray(row + SILERO_ROW - CONTEXT, row + SILERO_ROW));
        this.fill = 0;
        if (++this.count === this.capacity) await this.flush(onProb);
      }
    }
    await this.flush(onProb);
  }

  /** The last, partial window (zero-padded), if any. */
  async finish(onProb: (p: number) => void): Promise<void> {
    if (this.fill === 0) return;
    const row = this.count * SILERO_ROW;
    this.rows.fill(0, row + CONTEXT + this.fill, row + SILERO_ROW);
    this.count++;
    this.fill = 0;
    await this.flush(onProb);
  }

  /** Copies samples in at `at`, scaled by the gain and clipped (unchanged at gain 1, as Silero's wrapper). */
  private put(samples: Float32Array, at: number): void {
    if (this.gain === 1) {
      this.rows.set(samples, at);
      return;
    }
    for (let k = 0; k < samples.length; k++) this.rows[at + k] = Math.max(-1, Math.min(1, samples[k]! * this.gain));
  }

  /** Runs the complete windows; the one being filled, if any, moves to the front. */
  private async flush(onProb: (p: number) => void): Promise<void> {
    const n = this.count;
    if (n === 0) return;
    const probs = await this.run(this.rows.subarray(0, n * SILERO_ROW), n);
    for (let k = 0; k < n; k++) onProb(probs[k]!);
    if (this.fill > 0) this.rows.copyWithin(0, n * SILERO_ROW, n * SILERO_ROW + CONTEXT + this.fill);
    this.count = 0;
  }
}
