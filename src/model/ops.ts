// The operations the NAST model is written against ("one model definition, two executions",
// docs/design.md §5). Two implementations hold the same semantics:
//   src/eager/eager-ops.ts  Ops<Tensor>  libtorch tensors, for training and validation
//   src/export/onnx-ops.ts  Ops<Value>   an ONNX graph builder, for export (symbolic batch and time axes)
// Semantics follow ONNX wherever the two engines differ, so that each call maps to one or a few ONNX
// nodes. The forward never reads a shape back as a number: batch (B) and time (T) stay symbolic.
// Training-only behaviour (dropout, drop-net, batch statistics) is switched by `training`, never by a
// second copy of the model.

export interface ConvOptions {
  stride: number;
  padding: number;
  groups?: number;
}

export interface Ops<T> {
  /** True while training: dropout active, batch norm uses (and updates) batch statistics. */
  readonly training: boolean;

  /** A parameter or buffer by its state-dict name, e.g. "acoustic.layers.0.attn.q.weight". */
  param(name: string): T;

  // Elementwise, with numpy/ONNX broadcasting.
  add(a: T, b: T | number): T;
  sub(a: T, b: T | number): T;
  mul(a: T, b: T | number): T;
  div(a: T, b: T | number): T;
  exp(x: T): T;
  log(x: T): T;
  sqrt(x: T): T;
  tanh(x: T): T;
  sigmoid(x: T): T;
  relu(x: T): T;
  silu(x: T): T;
  gelu(x: T): T;
  /** Gated linear unit over `axis`: first half * sigmoid(second half). */
  glu(x: T, axis: number): T;
  softmax(x: T, axis: number): T;
  logSoftmax(x: T, axis: number): T;

  /** Batched matrix product, broadcasting over the leading axes (numpy matmul). */
  matmul(a: T, b: T): T;
  /** x @ wᵀ + b with w in torch layout (out, in); x of any rank >= 2. */
  linear(x: T, w: T, b?: T): T;
  /** Layer normalization over the last axis. */
  layerNorm(x: T, weight: T, bias: T, eps: number): T;
  /** x: (B, Cin, T), w: (Cout, Cin/groups, K) → (B, Cout, T_out). */
  conv1d(x: T, w: T, b: T | undefined, opts: ConvOptions): T;
  /**
   * Batch normalization of x: (B, C, T) over B and T, with `${prefix}.weight`, `.bias`, `.running_mean`,
   * `.running_var`. Training: batch statistics, running stats updated with `momentum` (torch convention).
   */
  batchNorm(x: T, prefix: string, eps: number, momentum: number): T;
  /** Inverted dropout with drop probability p; the identity when not training. */
  dropout(x: T, p: number): T;

  // Shape. reshape follows ONNX: 0 copies the input's dim at that index, -1 is inferred.
  reshape(x: T, shape: number[]): T;
  /** x with the shape of `like` (the same number of elements): the inverse of a reshape whose sizes are symbolic. */
  reshapeLike(x: T, like: T): T;
  /** ONNX Transpose: output axis i is input axis perm[i]. */
  transpose(x: T, perm: number[]): T;
  unsqueeze(x: T, axis: number): T;
  cat(xs: T[], axis: number): T;
  /** x[start:end] along `axis`, static bounds; negative bounds count from the end, end may exceed the size. */
  slice(x: T, axis: number, start: number, end: number): T;
  /** a where cond else b (cond bool, broadcasting). */
  where(cond: T, a: T, b: T | number): T;
  /** `value` where mask (bool, broadcasting) else x. */
  maskedFill(x: T, mask: T, value: number): T;
  /** Index of the maximum along `axis` (int64, axis removed). */
  argmax(x: T, axis: number): T;
  /** Maximum along `axis` (axis removed). */
  max(x: T, axis: number): T;
  /** Sum along `axis` (axis removed); ONNX ReduceSum with keepdims 0. Used to renormalise LiSA "probs" sharing. */
  sum(x: T, axis: number): T;
  /**
   * Rows of `x` picked by int64 `indices` along `axis` (ONNX Gather, torch index_select generalised):
   * output shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. The curriculum oracle looks up
   * E_pae_tgt rows of the ground-truth ids with it (docs/model.md §5.2).
   */
  gather(x: T, indices: T, axis: number): T;

  // Sequence structure: composite operations that each engine implements natively; parity-tested.
  /** lengths (B) int64 and the time size of x along `axis` → (B, T) bool, true at padded positions. */
  paddingMask(lengths: T, x: T, axis: number): T;
  /** Output lengths of a 1-D convolution: floor((L + 2·padding − kernel) / stride) + 1, int64. */
  convLength(lengths: T, kernel: number, stride: number, padding: number): T;
  /**
   * Sinusoidal relative-position table (ESPnet RelPositionalEncoding, the variant with positive and
   * negative offsets) for T = size of x along `axis`: shape (1, 2T−1, d), row k ↔ offset T−1−k.
   */
  relPositions(x: T, axis: number, d: number): T;
  /**
   * Transformer-XL relative shift: scores (B, H, T, 2T−1) over offsets → (B, H, T, T) over key positions,
   * out[b, h, i, j] = x[b, h, i, T−1−i+j].
   */
  relShift(x: T): T;

  // The autoregressive decoder (src/model/decoder.ts).
  /** int64 0, 1, …, n−1 with n the size of x along `axis`: shape (n). */
  range(x: T, axis: number): T;
  /** (T, T) bool with T the size of x along `axis`: true at key j > query i (the future a causal decoder must not see). */
  causalMask(x: T, axis: number): T;
  /**
   * Sinusoidal absolute positions (Vaswani et al. 2017) in fairseq's SinusoidalPositionalEmbedding layout: for int64
   * `positions` of any shape, shape + (d) float32 with sin(p·ω_i) in channel i and cos(p·ω_i) in channel d/2 + i,
   * ω_i = 10000^(−i/(d/2 − 1)).
   */
  sinusoid(positions: T, d: number): T;
}

/** ω_i of Ops.sinusoid as float32, computed once in JS so that both engines use the same values. */
export function sinusoidFrequencies(d: number): Float32Array {
  if (d % 2 !== 0 || d < 4) throw new Error(`sinusoid: the model dimension ${d} must be even and at least 4`);
  const half = d / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - 1)));
}
