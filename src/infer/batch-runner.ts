// The translator's engine interface: padded batches of features in, the CTC outputs out. onnxruntime-node
// (./session.ts), onnxruntime-web (src/web/engine.ts) and the tests' fakes implement it.

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
