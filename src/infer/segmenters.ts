// Segmenters for long audio behind one interface (Segmenter): Silero VAD (github.com/snakers4/silero-vad, MIT;
// a small LSTM network that gives the probability of speech in each 32 ms window) on an onnxruntime session,
// and the energy segmenter of src/audio/segment.ts. Both turn their frame decisions into segments with the
// same rules (src/audio/segment.ts: segmentFrames). The Silero model file, the details of its interface and
// why it is amplified are ./vad.ts's, which loads it on onnxruntime-node; this module has no node:* imports,
// so the browser page (src/web) runs the same segmenter on onnxruntime-web.
import type { InferenceSession, Tensor } from "onnxruntime-common";
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
import type { OrtTensors } from "./ort-runner.ts";

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

/** Throws (naming `path`) unless `session` has Silero VAD v5/v6's inputs and outputs. */
export function checkSileroSession(session: InferenceSession, path: string): void {
  const has = (names: readonly string[], want: string[]) => want.every((n) => names.includes(n));
  if (!has(session.inputNames, ["input", "state", "sr"]) || !has(session.outputNames, ["output", "stateN"])) {
    const names = `inputs [${session.inputNames.join(", ")}], outputs [${session.outputNames.join(", ")}]`;
    throw new Error(`${path}: not a Silero VAD v5/v6 model (${names}; expected inputs input, state, sr and outputs output, stateN)`);
  }
}

/** Silero VAD on a loaded session (./vad.ts: SileroVad.load on onnxruntime-node; src/web on onnxruntime-web). */
export class SileroSegmenter implements Segmenter {
  readonly name = "silero";

  constructor(
    private readonly ort: OrtTensors,
    private readonly session: InferenceSession,
    readonly path: string,
  ) {}

  /**
   * Speech probability of each 512-sample window of 16 kHz samples (the last one zero-padded), the
   * samples multiplied by `gain` (and clipped to [-1, 1]) on the way in.
   */
  async probabilities(samples: Float32Array, gain = 1): Promise<Float32Array> {
    const probs = new Float32Array(Math.ceil(samples.length / SILERO_WINDOW));
    let w = 0;
    const windows = this.windows(gain);
    await windows.push(samples, (p) => void (probs[w++] = p));
    await windows.finish((p) => void (probs[w++] = p));
    return probs;
  }

  /** A fresh run over one recording, window by window, with the state carried from one to the next. */
  private windows(gain: number): SileroWindows {
    return new SileroWindows(this.ort, this.session, this.path, gain);
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
    const windows = this.windows(gainFor(stats.levels.speechDb));
    const frames = new FrameSegmenter(SILERO_WINDOW, Math.ceil(stats.samples / SILERO_WINDOW), stats.samples, stats.sampleRate, opts);
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
    await this.session.release();
  }
}

/**
 * Silero VAD over one recording, window after window as its samples arrive, as Silero's OnnxWrapper runs
 * it: each 512-sample window is preceded by the last 64 samples of the window before (zeros before the
 * first), scaled by `gain` and clipped, and the last window is zero-padded (finish).
 */
class SileroWindows {
  private readonly input = new Float32Array(CONTEXT + SILERO_WINDOW);
  /** Samples of the current window so far. */
  private fill = 0;
  private state: Tensor;
  private readonly sr: Tensor;

  constructor(
    private readonly ort: OrtTensors,
    private readonly session: InferenceSession,
    private readonly path: string,
    private readonly gain: number,
  ) {
    this.sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(SILERO_RATE)]), []);
    this.state = new ort.Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]);
  }

  /** Adds samples; `onProb` gets the speech probability of each window they complete, in order. */
  async push(samples: Float32Array, onProb: (p: number) => void): Promise<void> {
    let i = 0;
    while (i < samples.length) {
      // The context is the previous window's last 64 samples, as scaled.
      if (this.fill === 0) this.input.copyWithin(0, SILERO_WINDOW, SILERO_WINDOW + CONTEXT);
      const take = Math.min(SILERO_WINDOW - this.fill, samples.length - i);
      this.input.set(samples.subarray(i, i + take), CONTEXT + this.fill);
      this.fill += take;
      i += take;
      if (this.fill === SILERO_WINDOW) {
        onProb(await this.run());
        this.fill = 0;
      }
    }
  }

  /** The last, partial window (zero-padded), if any. */
  async finish(onProb: (p: number) => void): Promise<void> {
    if (this.fill === 0) return;
    this.input.fill(0, CONTEXT + this.fill);
    onProb(await this.run());
    this.fill = 0;
  }

  private async run(): Promise<number> {
    const input = this.input;
    if (this.gain !== 1) for (let i = CONTEXT; i < input.length; i++) input[i] = Math.max(-1, Math.min(1, input[i]! * this.gain));
    const out = await this.session.run({ input: new this.ort.Tensor("float32", input, [1, CONTEXT + SILERO_WINDOW]), state: this.state, sr: this.sr });
    const p = out.output;
    const next = out.stateN;
    if (p === undefined || next === undefined) throw new Error(`${this.path}: returned no 'output' or 'stateN'`);
    this.state = next;
    return (p.data as Float32Array)[0]!;
  }
}
