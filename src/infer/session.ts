// The onnxruntime-node session of a model package: padded batches of features in, the CTC outputs
// out. onnxruntime-node is imported here only, lazily, so that commands that never translate do not
// load its native library.
import type * as OrtModule from "onnxruntime-node";
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { ModelPackageError, type ModelPackage } from "../formats/model-package.ts";
import { GREEDY_OUTPUTS, INPUTS, OUTPUTS } from "./model-io.ts";

export interface SessionOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
}

/** One utterance's features: row-major (frames × dim), CMVN applied. */
export interface Features {
  feats: Float32Array;
  frames: number;
}

export interface BatchOutput {
  batch: number;
  /** Padded output length T' and vocabulary size V. */
  steps: number;
  vocab: number;
  outLengths: number[];
  tgtIds: BigInt64Array;
  tgtScores: Float32Array;
  srcIds: BigInt64Array;
  /** (B × T' × V), only when asked for (beam search). */
  tgtLogProbs?: Float32Array;
}

/** What the translator needs of an engine: one padded batch in, the CTC outputs out. */
export interface BatchRunner {
  run(items: readonly Features[], wantLogProbs?: boolean): Promise<BatchOutput>;
}

type Ort = typeof OrtModule;



export class NastSession implements BatchRunner {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly inputDim: number,
    readonly vocab: number,
  ) {}

  static async create(pkg: ModelPackage, opts: SessionOptions = {}): Promise<NastSession> {
    const ort = await import("onnxruntime-node");
    const options: InferenceSession.SessionOptions = { graphOptimizationLevel: "all", executionMode: "sequential", interOpNumThreads: 1 };
    if (opts.threads !== undefined) options.intraOpNumThreads = opts.threads;
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(pkg.onnx, options);
    } catch (err) {
      throw new ModelPackageError(`${pkg.dir}/model.onnx: onnxruntime cannot load it (${(err as Error).message}); re-export it with \`nast export CKPT -o MODEL_DIR\``);
    }
    for (const name of Object.values(INPUTS)) {
      if (!session.inputNames.includes(name)) throw new ModelPackageError(`${pkg.dir}/model.onnx: has no input '${name}' (not a nast model package?)`);
    }
    if (session.outputNames.join(",") !== OUTPUTS.join(",")) {
      throw new ModelPackageError(
        `${pkg.dir}/model.onnx: outputs [${session.outputNames.join(", ")}] instead of [${OUTPUTS.join(", ")}]; re-export it with this version of \`nast export\``,
      );
    }
    return new NastSession(ort, session, pkg.cfg.inputDim, pkg.cfg.vocabSize);
  }

  /** Runs one padded batch (items may differ in length; padding is zeros, masked by the model). */
  async run(items: readonly Features[], wantLogProbs = false): Promise<BatchOutput> {
    const B = items.length;
    const T = Math.max(...items.map((x) => x.frames));
    const D = this.inputDim;
    const feats = new Float32Array(B * T * D);
    const lengths = new BigInt64Array(B);
    items.forEach((x, b) => {
      feats.set(x.feats.subarray(0, x.frames * D), b * T * D);
      lengths[b] = BigInt(x.frames);
    });
    // A prefix of the graph's outputs (./model-io.ts): the beam search also needs the log-probs.
    const fetches: string[] = wantLogProbs ? [...OUTPUTS] : [...GREEDY_OUTPUTS];
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
      ...(wantLogProbs ? { tgtLogProbs: get("tgt_log_probs").data as Float32Array } : {}),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
