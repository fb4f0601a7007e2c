// The translator's engine interfaces: padded batches of features in, the CTC outputs out (CTC-NAST: onnxruntime-node
// ./session.ts, onnxruntime-web src/web/engine.ts and the tests' fakes implement it), or the decoder's search
// results (the autoregressive counterpart: ./ar-runner.ts).
import type { Hypothesis } from "./ar-search.ts";

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
  /**
   * (B × T') each, when asked for (a blank penalty) and the engine has them: the blank's log-probability, and the
   * most likely other token (the lowest id among equals) and its log-probability.
   */
  tgtAlternatives?: { blank: Float32Array; ids: BigInt64Array; scores: Float32Array };
  /** (B × T' × V), when asked for (beam search), or for alternatives the engine does not have. */
  tgtLogProbs?: Float32Array;
}

/**
 * What a batch's decoding reads beyond the per-frame argmax: nothing (greedy), the alternatives to the blank (a
 * blank penalty), or the whole log-probabilities (beam search).
 */
export type OutputReads = "greedy" | "alternatives" | "logProbs";

/** What the translator needs of an engine: one padded batch in, the CTC outputs out. */
export interface BatchRunner {
  run(items: readonly Features[], reads?: OutputReads): Promise<BatchOutput>;
}

/** The autoregressive counterpart's outputs for one padded batch. */
export interface SearchOutput {
  /** Valid encoder frames per utterance (the source CTC's and the hypotheses' bound). */
  outLengths: number[];
  /** Padded frames T' of srcIds. */
  steps: number;
  /** Per-frame argmax of the auxiliary source CTC (B × T'): the transcript and the timestamps. */
  srcIds: BigInt64Array;
  hypotheses: Hypothesis[];
}

/** An engine that searches (greedy for beam ≤ 1, else beam search) instead of handing CTC outputs back. */
export interface SearchRunner {
  search(items: readonly Features[], beam: number): Promise<SearchOutput>;
}

export function isSearchRunner(r: BatchRunner | SearchRunner): r is SearchRunner {
  return "search" in r;
}
