// int8 weights for the exported graph's linear layers: dynamic quantization, as onnxruntime's own
// quantize_dynamic writes it (onnxruntime/python/tools/quantization), with standard ONNX operators only.
// Each weight W (out × in) is stored once as int8, symmetric per output channel; each activation is
// quantized per tensor to uint8 when the graph runs (DynamicQuantizeLinear), the product is taken in
// integers (MatMulInteger) and scaled back to float. onnxruntime fuses the chain into its
// DynamicQuantizeMatMul kernel at session creation (graph optimisation level "all").
import type { GraphBuilder, Value } from "./graph.ts";

/**
 * Linear layers whose two weight dimensions are both at least this are quantized. The LiSA head-alignment
 * FFN (heads → 8 → heads) runs over (B, T, T, H) tensors: quantizing its activations would cost more than
 * its tiny product and lose the precision that the shared attention logits need.
 */
export const INT8_MIN_DIM = 64;

export interface Int8Columns {
  /** Wᵀ, (in × out) row-major, int8 in [−127, 127]. */
  q: Int8Array;
  /** One scale per output channel: W[j, i] ≈ scale[j] · q[i, j]. */
  scale: Float32Array;
}

/** Symmetric per-output-channel int8 of a float32 weight (out × in, row-major as a linear layer stores it). */
export function quantizeColumns(w: Float32Array, out: number, inp: number): Int8Columns {
  if (w.length !== out * inp) throw new Error(`int8: ${w.length} values do not make a ${out}×${inp} weight`);
  const q = new Int8Array(out * inp);
  const scale = new Float32Array(out);
  for (let j = 0; j < out; j++) {
    let max = 0;
    for (let i = 0; i < inp; i++) max = Math.max(max, Math.abs(w[j * inp + i]!));
    // An all-zero channel keeps scale 1 (its int8 values are all 0 whatever the scale).
    const s = max > 0 ? max / 127 : 1;
    scale[j] = s;
    for (let i = 0; i < inp; i++) q[i * out + j] = Math.max(-127, Math.min(127, Math.round(w[j * inp + i]! / s)));
  }
  return { q, scale };
}

/** A (rows × cols) row-major matrix transposed. */
export function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** W (out × in, float32) back from its int8 form: what the package computes with, for `nast train --init`. */
export function dequantizeColumns(cols: Int8Columns, out: number, inp: number): Float32Array {
  if (cols.q.length !== out * inp || cols.scale.length !== out) throw new Error(`int8: ${cols.q.length} values and ${cols.scale.length} scales do not make a ${out}×${inp} weight`);
  const w = new Float32Array(out * inp);
  for (let j = 0; j < out; j++) for (let i = 0; i < inp; i++) w[j * inp + i] = cols.scale[j]! * cols.q[i * out + j]!;
  return w;
}

/**
 * What int8 covers in an export: the linear layers, the products of CTC probabilities with an embedding table
 * (PAE and the adapter, (B, T', V) · (V, d)) and the subsampler's convolutions (as products over unfolded windows).
 */
export const INT8_SCOPES = ["linear", "embeddings", "conv"] as const;
export type Int8Scope = (typeof INT8_SCOPES)[number];

/**
 * How a quantized weight is stored, by the suffix of its initializer's name, so that src/export/onnx-weights.ts
 * can give back the parameter in its own layout: a linear's Wᵀ (in × out) as `.int8`; an embedding table (V × d),
 * which is already (in × out), as `.int8-table`; a convolution weight (O, C, k) as its taps (k, C, O), `.int8-taps`
 * (reshaped to (k·C, O) in the graph). Each has its per-column scales in `.scale`.
 */
export const INT8_FORMS = { linear: ".int8", table: ".int8-table", taps: ".int8-taps" } as const;
export type Int8Form = keyof typeof INT8_FORMS;

/**
 * The initializers of a quantized weight, named after the float one: the (in × out) int8 product weight (stored
 * with the shape `stored` when that is not (in, out), and reshaped in the graph) and its scales.
 */
export function int8Initializers(g: GraphBuilder, name: string, cols: Int8Columns, out: number, inp: number, form: Int8Form = "linear", stored: number[] = [inp, out]): { weight: Value; scale: Value } {
  const bytes = new Uint8Array(cols.q.buffer, cols.q.byteOffset, cols.q.length);
  const init = g.initializer(`${name}${INT8_FORMS[form]}`, "int8", stored, bytes);
  // onnxruntime folds the Reshape of an initializer when the session loads, before it fuses the product.
  const weight = stored.length === 2 ? init : g.op("Reshape", [init, g.ints([inp, out])], {}, "int8");
  return { weight, scale: g.initializer(`${name}.scale`, "float32", [out], new Uint8Array(cols.scale.buffer, cols.scale.byteOffset, cols.scale.length * 4)) };
}

/** x (…, in) float32 times the quantized weight: (…, out) float32. */
export function int8MatMul(g: GraphBuilder, x: Value, w: { weight: Value; scale: Value }): Value {
  const [xq, xScale, xZero] = g.node("DynamicQuantizeLinear", [x], {}, ["uint8", "float32", "uint8"]) as [Value, Value, Value];
  const acc = g.op("MatMulInteger", [xq, w.weight, xZero, g.scalar("int8", 0)], {}, "int32");
  const scale = g.op("Mul", [xScale, w.scale], {}, "float32");
  return g.op("Mul", [g.op("Cast", [acc], { to: 1 }, "float32"), scale], {}, "float32");
}
