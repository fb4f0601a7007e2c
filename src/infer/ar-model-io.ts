// The interface of an exported autoregressive model (docs/model.md §10.4): model.onnx runs the encoder once per
// batch, decoder.onnx one decoder step with its key/value cache. Shared by the exporter (src/export/ar-export.ts)
// and the runner (./ar-runner.ts). Shapes: B utterances, T' encoder frames, N decoder rows, S cached positions,
// H heads, dh = d/H; one pair of cache and cross tensors per decoder layer.

/** Graph outputs of the encoder (model.onnx) in graph order: src_ids (B, T'), out_lengths (B), cross_k_i / cross_v_i (B, H, T', dh). */
export function arEncoderOutputs(layers: number): string[] {
  return ["src_ids", "out_lengths", ...perLayer(layers, "cross")];
}

/**
 * Graph inputs of the decoder step (decoder.onnx): tokens (N, 1), position (1), parent (N) and memory_lengths (N)
 * int64, cache_k_i / cache_v_i (N_prev, H, S, dh), cross_k_i / cross_v_i (N, H, T', dh).
 */
export function arDecoderInputs(layers: number): string[] {
  return ["tokens", "position", "parent", "memory_lengths", ...perLayer(layers, "cache"), ...perLayer(layers, "cross")];
}

/** Graph outputs of the decoder step in graph order: log_probs (N, V), new_cache_k_i / new_cache_v_i (N, H, S+1, dh). */
export function arDecoderOutputs(layers: number): string[] {
  return ["log_probs", ...perLayer(layers, "new_cache")];
}

function perLayer(layers: number, stem: string): string[] {
  return Array.from({ length: layers }, (_, i) => [`${stem}_k_${i}`, `${stem}_v_${i}`]).flat();
}
