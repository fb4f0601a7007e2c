// The interface of an exported model.onnx, shared by the exporter (src/export/exporter.ts) that writes it and
// the session (src/infer/session.ts) that runs it.

export const INPUTS = { feats: "feats", lengths: "lengths" } as const;

/**
 * Graph outputs in graph order. Greedy decoding fetches the first four only, and with a blank penalty the next
 * three (the blank's log-probability and the best other token's id and log-probability per frame, from which
 * ./ctc.ts greedyDecodeAlternatives decodes); beam search fetches all, the whole log-probabilities last.
 * onnxruntime-node 1.23 labels fetched outputs by their position in the graph's output list, so every fetch list
 * must be a prefix of it.
 */
export const OUTPUTS = ["tgt_ids", "tgt_scores", "src_ids", "out_lengths", "tgt_blank_scores", "tgt_alt_ids", "tgt_alt_scores", "tgt_log_probs"] as const;
export const GREEDY_OUTPUTS = OUTPUTS.slice(0, 4);
export const ALTERNATIVE_OUTPUTS = OUTPUTS.slice(0, 7);
/** The outputs of packages exported before the alternatives (a blank penalty then reads the log-probabilities). */
export const LEGACY_OUTPUTS = ["tgt_ids", "tgt_scores", "src_ids", "out_lengths", "tgt_log_probs"] as const;
