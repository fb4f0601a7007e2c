// The interface of an exported model.onnx, shared by the exporter (src/export/exporter.ts) that writes it and
// the session (src/infer/session.ts) that runs it.

export const INPUTS = { feats: "feats", lengths: "lengths" } as const;

/**
 * Graph outputs in graph order. Greedy decoding fetches the first four only; onnxruntime-node 1.23 labels
 * fetched outputs by their position in the graph's output list, so every fetch list must be a prefix of it.
 */
export const OUTPUTS = ["tgt_ids", "tgt_scores", "src_ids", "out_lengths", "tgt_log_probs"] as const;
export const GREEDY_OUTPUTS = OUTPUTS.slice(0, 4);
