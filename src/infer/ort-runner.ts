// A model package's onnxruntime session behind the BatchRunner interface (./session.ts): padded batches
// of features in, the CTC outputs out. Written against onnxruntime-common, the API that onnxruntime-node
// and onnxruntime-web both re-export, so `nast translate` and the browser page (src/web) run the same
// code around their own runtime; no node:* imports.
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { ALTERNATIVE_OUTPUTS, GREEDY_OUTPUTS, INPUTS, LEGACY_OUTPUTS, OUTPUTS } from "./model-io.ts";
import type { BatchOutput, BatchRunner, Features, OutputReads } from "./batch-runner.ts";

/** What a runtime module gives: its Tensor class (onnxruntime-node's or onnxruntime-web's). */
export interface OrtTensors {
  Tensor: typeof Tensor;
}

/** Throws (with `where` in the message) unless `session` has the inputs and outputs of `nast export`. */
export function checkNastSession(session: InferenceSession, where: string): void {
  for (const name of Object.values(INPUTS)) {
    if (!session.inputNames.includes(name)) throw new Error(`${where}: has no input '${name}' (not a nast model package?)`);
  }
  const names = session.outputNames.join(",");
  if (names !== OUTPUTS.join(",") && names !== LEGACY_OUTPUTS.join(",")) {
    throw new Error(`${where}: outputs [${session.outputNames.join(", ")}] instead of [${OUTPUTS.join(", ")}]; re-export it with this version of \`nast export\``);
  }
}

export class OrtBatchRunner implements BatchRunner {
  /** Whether the graph has the alternatives to the blank (packages exported before them do not). */
  private readonly alternatives: boolean;

  constructor(
    private readonly ort: OrtTensors,
    private readonly session: InferenceSession,
    readonly inputDim: number,
    readonly vocab: number,
  ) {
    this.alternatives = session.outputNames.length === OUTPUTS.length;
  }

  /** Runs one padded batch (items may differ in length; padding is zeros, masked by the model). */
  async run(items: readonly Features[], reads: OutputReads = "greedy"): Promise<BatchOutput> {
    const B = items.length;
    const T = Math.max(...items.map((x) => x.frames));
    const D = this.inputDim;
    const feats = new Float32Array(B * T * D);
    const lengths = new BigInt64Array(B);
    items.forEach((x, b) => {
      feats.set(x.feats.subarray(0, x.frames * D), b * T * D);
      lengths[b] = BigInt(x.frames);
    });
    // A prefix of the graph's outputs (./model-io.ts): the beam search also needs the log-probs, and so does a
    // blank penalty on a graph without the alternatives.
    const alternatives = reads === "alternatives" && this.alternatives;
    const logProbs = reads === "logProbs" || (reads === "alternatives" && !alternatives);
    const fetches: string[] = logProbs ? [...this.session.outputNames] : alternatives ? [...ALTERNATIVE_OUTPUTS] : [...GREEDY_OUTPUTS];
    const out = await this.session.run(
      { [INPUTS.feats]: new this.ort.Tensor("float32", feats, [B, T, D]), [INPUTS.lengths]: new this.ort.Tensor("int64", lengths, [B]) },
      fetches,
    );
    const get = (name: string): Tensor => {
      const t = out[name];
      if (t === undefined) throw new Error(`model.onnx returned no '${name}'`);
      return t;
    };
    const ids = get("tgt_ids");
    return {
      batch: B,
      steps: ids.dims[1]!,
      vocab: this.vocab,
      outLengths: Array.from(get("out_lengths").data as BigInt64Array, Number),
      tgtIds: ids.data as BigInt64Array,
      tgtScores: get("tgt_scores").data as Float32Array,
      srcIds: get("src_ids").data as BigInt64Array,
      ...(alternatives ? { tgtAlternatives: { blank: get("tgt_blank_scores").data as Float32Array, ids: get("tgt_alt_ids").data as BigInt64Array, scores: get("tgt_alt_scores").data as Float32Array } } : {}),
      ...(logProbs ? { tgtLogProbs: get("tgt_log_probs").data as Float32Array } : {}),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
