// Silero VAD window by window, as the page runs it: the shipped silero_vad.onnx (v6, v5's interface: input
// [1, 64 + 512], state [2, 1, 128], sr; outputs output [1, 1] and stateN; src/infer/vad.ts) on onnxruntime-web,
// one call per 32 ms window with the state carried, as Silero's OnnxWrapper runs it (github.com/snakers4/
// silero-vad, src/silero_vad/utils_vad.py). onnxruntime-node runs the sequence graph built from the same
// network instead (src/infer/silero-sequence.ts: a run of windows in one call); the page keeps this form, so it
// loads the model file as shipped. test/infer/silero-sequence.test.ts checks the two against each other.
import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { OrtTensors } from "../infer/ort-runner.ts";
import { SILERO_RATE, SILERO_ROW, type SileroNetwork, type SileroRun } from "../infer/segmenters.ts";

/** Throws (naming `path`) unless `session` has Silero VAD v5/v6's inputs and outputs. */
export function checkSileroSession(session: InferenceSession, path: string): void {
  const has = (names: readonly string[], want: string[]) => want.every((n) => names.includes(n));
  if (!has(session.inputNames, ["input", "state", "sr"]) || !has(session.outputNames, ["output", "stateN"])) {
    const names = `inputs [${session.inputNames.join(", ")}], outputs [${session.outputNames.join(", ")}]`;
    throw new Error(`${path}: not a Silero VAD v5/v6 model (${names}; expected inputs input, state, sr and outputs output, stateN)`);
  }
}

/** The shipped model on a session (checked by checkSileroSession), one window per call. */
export class SileroWindowModel implements SileroNetwork {
  constructor(
    private readonly ort: OrtTensors,
    private readonly session: InferenceSession,
    readonly path: string,
  ) {}

  start(): SileroRun {
    const sr = new this.ort.Tensor("int64", BigInt64Array.from([BigInt(SILERO_RATE)]), []);
    let state: Tensor = new this.ort.Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]);
    return async (rows, count) => {
      const probs = new Float32Array(count);
      for (let k = 0; k < count; k++) {
        const input = new this.ort.Tensor("float32", rows.subarray(k * SILERO_ROW, (k + 1) * SILERO_ROW), [1, SILERO_ROW]);
        const out = await this.session.run({ input, state, sr });
        const p = out.output;
        const next = out.stateN;
        if (p === undefined || next === undefined) throw new Error(`${this.path}: returned no 'output' or 'stateN'`);
        state = next;
        probs[k] = (p.data as Float32Array)[0]!;
      }
      return probs;
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
