// Ops<Value>: the model's forward (src/model) executed as an ONNX graph builder. Each op appends one
// or a few ONNX opset-17 nodes; batch (B) and time (T) stay symbolic because sizes are read with
// Shape nodes at run time, never as numbers here. Semantics are those of src/model/ops.ts, which
// follows ONNX; the parity tests (test/export) hold this against hand-computed values and eager libtorch.
import { sinusoidFrequencies, type ConvOptions, type Ops } from "../model/ops.ts";
import { encodeHalf } from "../formats/float16.ts";
import { GraphBuilder, type Value } from "./graph.ts";
import type { DType } from "../formats/onnx-proto.ts";
import type { StoredTensor } from "./checkpoint.ts";
import { INT8_MIN_DIM, int8Initializers, int8MatMul, quantizeColumns, transposed, type Int8Scope } from "./int8.ts";

export type { Value } from "./graph.ts";

export interface OnnxOpsOptions {
  /** Store float32 parameters as float16 initializers, cast back to float32 when the model loads. */
  fp16Weights?: boolean;
  /**
   * The products taken in integers, with int8 weights (both dimensions ≥ INT8_MIN_DIM; ./int8.ts): linear layers,
   * embedding products (a matmul whose right operand is a (V, d) parameter: PAE and the adapter) and dense
   * convolutions (the subsampler's).
   */
  int8?: ReadonlySet<Int8Scope>;
}

/** The largest int64: a slice end meaning "to the end". */
const INT64_END = 2 ** 63;

export class OnnxOps implements Ops<Value> {
  readonly training = false;
  private readonly params = new Map<string, Value>();
  private readonly int8 = new Map<string, { weight: Value; scale: Value }>();
  /** Names of the state-dict entries the forward used (the rest are training-only or unused). */
  readonly used = new Set<string>();

  constructor(
    readonly g: GraphBuilder,
    private readonly state: ReadonlyMap<string, StoredTensor>,
    private readonly opts: OnnxOpsOptions = {},
  ) {}

  param(name: string): Value {
    const hit = this.params.get(name);
    if (hit) return hit;
    const t = this.state.get(name);
    if (t === undefined) throw new Error(`the checkpoint has no parameter '${name}' that the model's forward needs`);
    this.used.add(name);
    let v: Value;
    if (this.opts.fp16Weights && t.dtype === "float32") {
      const src = new Float32Array(t.data.slice().buffer);
      const half = encodeHalf(src);
      const stored = this.g.initializer(`${name}.fp16`, "float16", t.shape, new Uint8Array(half.buffer));
      v = this.g.node("Cast", [stored], { to: 1 }, ["float32"], [name])[0]!;
    } else {
      v = this.g.initializer(name, t.dtype, t.shape, t.data);
    }
    this.params.set(name, v);
    return v;
  }

  // ---- elementwise -------------------------------------------------------------------------------

  private operand(b: Value | number, like: Value): Value {
    return typeof b === "number" ? this.g.scalar(like.dtype, b) : b;
  }

  private binary(op: string, a: Value, b: Value | number): Value {
    const rhs = this.operand(b, a);
    const dtype: DType = a.dtype === "float32" || rhs.dtype === "float32" ? "float32" : a.dtype;
    return this.g.op(op, [a, rhs], {}, dtype);
  }

  add(a: Value, b: Value | number): Value {
    return this.binary("Add", a, b);
  }
  sub(a: Value, b: Value | number): Value {
    return this.binary("Sub", a, b);
  }
  mul(a: Value, b: Value | number): Value {
    return this.binary("Mul", a, b);
  }
  div(a: Value, b: Value | number): Value {
    return this.binary("Div", a, b);
  }

  private unary(op: string, x: Value): Value {
    return this.g.op(op, [x], {}, x.dtype);
  }

  exp(x: Value): Value {
    return this.unary("Exp", x);
  }
  log(x: Value): Value {
    return this.unary("Log", x);
  }
  sqrt(x: Value): Value {
    return this.unary("Sqrt", x);
  }
  tanh(x: Value): Value {
    return this.unary("Tanh", x);
  }
  sigmoid(x: Value): Value {
    return this.unary("Sigmoid", x);
  }
  relu(x: Value): Value {
    return this.unary("Relu", x);
  }
  silu(x: Value): Value {
    return this.mul(x, this.sigmoid(x));
  }
  /**
   * Exact (erf) GELU, torch's default: (0.5·x)·(1 + erf(x/√2)); opset 17 has no Gelu node. Written as the pattern
   * onnxruntime's GeluFusion matches (Div by √2 → Erf → Add 1 → Mul with Mul(x, 0.5): onnxruntime
   * core/optimizer/gelu_fusion.cc), so that at level "all" the five elementwise passes become one Gelu kernel,
   * which computes (0.5·x)·(erf(x·(1/√2)) + 1) in chunks on the thread pool (core/providers/cpu/tensor/gelu.cc).
   * Its results differ from the unfused graph's by float32 rounding only (an ulp of erf times |x| in the negative
   * tail, where 1 + erf cancels: test/export/onnx-ops.test.ts), far inside the parity bound against libtorch.
   */
  gelu(x: Value): Value {
    const erf = this.unary("Erf", this.div(x, Math.SQRT2));
    return this.mul(this.mul(x, 0.5), this.add(erf, 1));
  }
  glu(x: Value, axis: number): Value {
    const [a, b] = this.g.node("Split", [x], { axis }, [x.dtype, x.dtype]);
    return this.mul(a!, this.sigmoid(b!));
  }
  softmax(x: Value, axis: number): Value {
    return this.g.op("Softmax", [x], { axis }, x.dtype);
  }
  logSoftmax(x: Value, axis: number): Value {
    return this.g.op("LogSoftmax", [x], { axis }, x.dtype);
  }

  // ---- linear algebra and normalization ----------------------------------------------------------

  matmul(a: Value, b: Value): Value {
    // A parameter on the right is a weight stored as (in × out): quantized per column like a linear's Wᵀ.
    const q = this.opts.int8?.has("embeddings") ? this.int8Weight(b, "table") : undefined;
    return q !== undefined ? int8MatMul(this.g, a, q) : this.g.op("MatMul", [a, b], {}, "float32");
  }
  linear(x: Value, w: Value, b?: Value): Value {
    const q = this.opts.int8?.has("linear") ? this.int8Weight(w, "linear") : undefined;
    // The Transpose of an initializer is folded by onnxruntime when the session loads.
    const y = q !== undefined ? int8MatMul(this.g, x, q) : this.matmul(x, this.g.op("Transpose", [w], { perm: [1, 0] }, w.dtype));
    return b === undefined ? y : this.add(y, b);
  }

  /**
   * The int8 form of a 2-D parameter used as a product's weight, stored (out × in) as a linear's or (in × out) as
   * an embedding table, made once; undefined when it stays float (not a parameter, or a dimension < INT8_MIN_DIM).
   */
  private int8Weight(w: Value, form: "linear" | "table"): { weight: Value; scale: Value } | undefined {
    const hit = this.int8.get(w.name);
    if (hit !== undefined) return hit;
    const t = this.params.get(w.name) === w ? this.state.get(w.name) : undefined;
    if (t === undefined || t.dtype !== "float32" || t.shape.length !== 2 || Math.min(...t.shape) < INT8_MIN_DIM) return undefined;
    const data = new Float32Array(t.data.slice().buffer);
    const [out, inp] = (form === "linear" ? t.shape : [t.shape[1], t.shape[0]]) as [number, number];
    const q = int8Initializers(this.g, w.name, quantizeColumns(form === "linear" ? data : transposed(data, inp, out), out, inp), out, inp, form);
    this.int8.set(w.name, q);
    return q;
  }
  layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
    return this.g.op("LayerNormalization", [x, weight, bias], { axis: -1, epsilon: eps }, x.dtype);
  }
  conv1d(x: Value, w: Value, b: Value | undefined, opts: ConvOptions): Value {
    const unfolded = this.opts.int8?.has("conv") && (opts.groups ?? 1) === 1 ? this.int8Conv1d(x, w, opts) : undefined;
    if (unfolded !== undefined) return b === undefined ? unfolded : this.add(unfolded, this.unsqueeze(b, 1));
    const inputs = b === undefined ? [x, w] : [x, w, b];
    return this.g.op("Conv", inputs, { strides: [opts.stride], pads: [opts.padding, opts.padding], group: opts.groups ?? 1 }, x.dtype);
  }
  /**
   * A dense Conv1d (x (B, C, T), weight (O, C, k)) as one integer product over unfolded windows: the k taps of
   * each output frame side by side, (B, T_out, k·C), times the weight laid out tap-major, (k·C, O), and quantized
   * per output channel like a linear's; (B, O, T_out). Undefined when the weight stays float (a dimension under
   * INT8_MIN_DIM). onnxruntime fuses the product into DynamicQuantizeMatMul, as it does a linear layer's.
   */
  private int8Conv1d(x: Value, w: Value, opts: ConvOptions): Value | undefined {
    const t = this.params.get(w.name) === w ? this.state.get(w.name) : undefined;
    if (t === undefined || t.dtype !== "float32" || t.shape.length !== 3) return undefined;
    const [out, channels, k] = t.shape as [number, number, number];
    if (Math.min(out, channels * k) < INT8_MIN_DIM) return undefined;
    let q = this.int8.get(w.name);
    if (q === undefined) {
      // (O, C, k) → (O, k, C): tap-major, the order of the unfolded windows.
      const src = new Float32Array(t.data.slice().buffer);
      const taps = new Float32Array(src.length);
      for (let o = 0; o < out; o++) for (let c = 0; c < channels; c++) for (let j = 0; j < k; j++) taps[(o * k + j) * channels + c] = src[(o * channels + c) * k + j]!;
      q = int8Initializers(this.g, w.name, quantizeColumns(taps, out, k * channels), out, k * channels, "taps", [k, channels, out]);
      this.int8.set(w.name, q);
    }
    // (B, C, T) → (B, T + 2p, C); tap j of output frame i is input frame i·stride + j.
    const padded = this.g.op("Pad", [this.transpose(x, [0, 2, 1]), this.g.ints([0, opts.padding, 0, 0, opts.padding, 0])], {}, x.dtype);
    const frames = this.dim(padded, 1);
    const outFrames = this.g.op("Add", [this.g.op("Div", [this.g.op("Sub", [frames, this.g.ints([k])], {}, "int64"), this.g.ints([opts.stride])], {}, "int64"), this.g.ints([1])], {}, "int64");
    const taps: Value[] = [];
    for (let j = 0; j < k; j++) {
      const end = this.g.op("Add", [this.g.op("Mul", [this.g.op("Sub", [outFrames, this.g.ints([1])], {}, "int64"), this.g.ints([opts.stride])], {}, "int64"), this.g.ints([j + 1])], {}, "int64");
      taps.push(this.g.op("Slice", [padded, this.g.ints([j]), end, this.g.ints([1]), this.g.ints([opts.stride])], {}, x.dtype));
    }
    return this.transpose(int8MatMul(this.g, this.cat(taps, 2), q), [0, 2, 1]); // (B,O,T_out)
  }
  batchNorm(x: Value, prefix: string, eps: number, _momentum: number): Value {
    const p = (s: string): Value => this.param(`${prefix}.${s}`);
    return this.g.op("BatchNormalization", [x, p("weight"), p("bias"), p("running_mean"), p("running_var")], { epsilon: eps }, x.dtype);
  }
  dropout(x: Value, _p: number): Value {
    return x;
  }

  // ---- shape -------------------------------------------------------------------------------------

  reshape(x: Value, shape: number[]): Value {
    return this.g.op("Reshape", [x, this.g.ints(shape)], {}, x.dtype);
  }
  reshapeLike(x: Value, like: Value): Value {
    return this.g.op("Reshape", [x, this.g.op("Shape", [like], {}, "int64")], {}, x.dtype);
  }
  transpose(x: Value, perm: number[]): Value {
    return this.g.op("Transpose", [x], { perm }, x.dtype);
  }
  unsqueeze(x: Value, axis: number): Value {
    return this.g.op("Unsqueeze", [x, this.g.ints([axis])], {}, x.dtype);
  }
  cat(xs: Value[], axis: number): Value {
    if (xs.length === 0) throw new Error("cat of no tensors");
    return this.g.op("Concat", xs, { axis }, xs[0]!.dtype);
  }
  slice(x: Value, axis: number, start: number, end: number): Value {
    const e = end === Infinity ? INT64_END : end;
    return this.g.op("Slice", [x, this.g.ints([start]), this.g.ints([e]), this.g.ints([axis])], {}, x.dtype);
  }
  where(cond: Value, a: Value, b: Value | number): Value {
    return this.g.op("Where", [cond, a, this.operand(b, a)], {}, a.dtype);
  }
  maskedFill(x: Value, mask: Value, value: number): Value {
    return this.g.op("Where", [mask, this.g.scalar(x.dtype, value), x], {}, x.dtype);
  }
  argmax(x: Value, axis: number): Value {
    return this.g.op("ArgMax", [x], { axis, keepdims: 0 }, "int64");
  }
  max(x: Value, axis: number): Value {
    return this.g.op("ReduceMax", [x], { axes: [axis], keepdims: 0 }, x.dtype);
  }

  sum(x: Value, axis: number): Value {
    return this.g.op("ReduceSum", [x, this.g.ints([axis])], { keepdims: 0 }, x.dtype);
  }
  gather(x: Value, indices: Value, axis: number): Value {
    return this.g.op("Gather", [x, indices], { axis }, x.dtype);
  }

  // ---- sequence structure (composites of ONNX primitives) -----------------------------------------

  /** The size of x along `axis` as an int64 tensor of shape (1). */
  dim(x: Value, axis: number): Value {
    const attrs: Record<string, number> = { start: axis };
    if (axis !== -1) attrs.end = axis + 1;
    return this.g.op("Shape", [x], attrs, "int64");
  }

  /** The size of x along `axis` as an int64 scalar. */
  private scalarDim(x: Value, axis: number): Value {
    return this.g.op("Squeeze", [this.dim(x, axis), this.g.ints([0])], {}, "int64");
  }

  paddingMask(lengths: Value, x: Value, axis: number): Value {
    const t = this.scalarDim(x, axis);
    const positions = this.g.op("Range", [this.g.scalar("int64", 0), t, this.g.scalar("int64", 1)], {}, "int64");
    return this.g.op("GreaterOrEqual", [positions, this.unsqueeze(lengths, 1)], {}, "bool");
  }

  convLength(lengths: Value, kernel: number, stride: number, padding: number): Value {
    // Floor division in float64 (ONNX integer Div truncates toward zero; lengths are far below 2^53).
    const l = this.g.op("Cast", [lengths], { to: 11 }, "float64");
    const num = this.g.op("Add", [l, this.g.scalar("float64", 2 * padding - kernel)], {}, "float64");
    const q = this.g.op("Floor", [this.g.op("Div", [num, this.g.scalar("float64", stride)], {}, "float64")], {}, "float64");
    const out = this.g.op("Add", [q, this.g.scalar("float64", 1)], {}, "float64");
    return this.g.op("Cast", [out], { to: 7 }, "int64");
  }

  relPositions(x: Value, axis: number, d: number): Value {
    if (d % 2 !== 0) throw new Error(`relPositions: the model dimension ${d} must be even`);
    // Offsets T−1, T−2, …, −(T−1) (row k ↔ offset T−1−k), as float32.
    const t = this.g.op("Cast", [this.scalarDim(x, axis)], { to: 1 }, "float32");
    const start = this.g.op("Sub", [t, this.g.scalar("float32", 1)], {}, "float32");
    const limit = this.g.op("Neg", [t], {}, "float32");
    const offsets = this.g.op("Range", [start, limit, this.g.scalar("float32", -1)], {}, "float32");
    // div_term[i] = exp(2i · −ln(10000)/d), rounded through float32 the way torch computes it
    // (ESPnet RelPositionalEncoding, docs/model.md §3.2).
    const c = Math.fround(-(Math.log(10000) / d));
    const divTerm = Array.from({ length: d / 2 }, (_, i) => Math.fround(Math.exp(Math.fround(2 * i * c))));
    const angles = this.g.op("Mul", [this.unsqueeze(offsets, 1), this.g.constant("float32", [1, d / 2], divTerm)], {}, "float32");
    // Interleave: even channels sin, odd channels cos.
    const sin = this.unsqueeze(this.unary("Sin", angles), 2);
    const cos = this.unsqueeze(this.unary("Cos", angles), 2);
    return this.reshape(this.cat([sin, cos], 2), [1, -1, d]);
  }

  relShift(x: Value): Value {
    // Pad one zero column on the left of the offset axis, view (B, H, 2T, T), drop the first row,
    // view (B, H, T, 2T−1), keep the first T columns: out[i, j] = x[i, T−1−i+j] (Transformer-XL).
    const padded = this.g.op("Pad", [x, this.g.ints([0, 0, 0, 1, 0, 0, 0, 0])], {}, x.dtype);
    const t = this.dim(x, 2);
    const rows = this.g.op("Reshape", [padded, this.cat([this.g.ints([0, 0, -1]), t], 0)], {}, x.dtype);
    const dropped = this.slice(rows, 2, 1, INT64_END);
    const back = this.g.op("Reshape", [dropped, this.cat([this.g.ints([0, 0]), t, this.g.ints([-1])], 0)], {}, x.dtype);
    return this.g.op("Slice", [back, this.g.ints([0]), t, this.g.ints([3])], {}, x.dtype);
  }

  range(x: Value, axis: number): Value {
    return this.g.op("Range", [this.g.scalar("int64", 0), this.scalarDim(x, axis), this.g.scalar("int64", 1)], {}, "int64");
  }

  causalMask(x: Value, axis: number): Value {
    const steps = this.range(x, axis);
    return this.g.op("Greater", [this.unsqueeze(steps, 0), this.unsqueeze(steps, 1)], {}, "bool");
  }

  sinusoid(positions: Value, d: number): Value {
    const p = this.unsqueeze(this.g.op("Cast", [positions], { to: 1 }, "float32"), -1);
    const angles = this.g.op("Mul", [p, this.g.constant("float32", [d / 2], [...sinusoidFrequencies(d)])], {}, "float32");
    return this.cat([this.unary("Sin", angles), this.unary("Cos", angles)], -1);
  }
}
