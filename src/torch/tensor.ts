// The Tensor handle, the generic operator call and memory scopes.
//
// A Tensor is a slot number in the C++ slot table (kernels/src/nast_torch.cc). Every operation returns a NEW
// handle that its caller owns, even when libtorch returns a view or the same storage: disposing one handle
// never invalidates another. Memory is freed by `dispose()` or by the enclosing `tidy()` scope, never by
// waiting for the garbage collector (a FinalizationRegistry frees forgotten handles only as a backstop).
import { DTYPE_CODE, dtypeFromCode, viewBytes, type DType, type TypedArray } from "./dtype.ts";
import { ELEMENT_BYTES } from "../formats/dtype.ts";
import { native } from "./native.ts";

/** "cpu", "cuda" or "cuda:N". */
export type Device = string;

// ---------------------------------------------------------------------------------------------------
// Memory scopes

const scopes: Set<Tensor>[] = [];
const backstop = new FinalizationRegistry<number>((id) => native().free(id));

function collect(value: unknown, into: Set<Tensor>, depth: number): void {
  if (depth > 8 || value === null || typeof value !== "object") return;
  if (value instanceof Tensor) {
    into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, into, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, depth + 1);
  }
}

/**
 * Runs `fn` and disposes every tensor created during it except those reachable from its result (a Tensor,
 * or arrays, Maps and plain objects holding them); those move to the enclosing scope. `fn` must be
 * synchronous: an async body would interleave with other scopes.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error("tidy(fn): fn returned a Promise; scopes only hold synchronous code");
  }
  const kept = new Set<Tensor>();
  collect(result, kept, 0);
  const parent = scopes.at(-1);
  for (const t of scope) {
    if (kept.has(t)) {
      if (parent === undefined) {
        t._unscoped();
      } else {
        t._scope = parent;
        parent.add(t);
      }
    } else {
      t.dispose();
    }
  }
  return result;
}

/** Takes tensors out of their scope: they live until disposed explicitly (model parameters, optimizer state). */
export function keep<T extends Tensor | Tensor[]>(value: T): T {
  for (const t of Array.isArray(value) ? value : [value]) {
    t._scope?.delete(t);
    t._unscoped();
  }
  return value;
}

/** Disposes every tensor in a value (Tensor, arrays, Maps, plain objects). */
export function disposeAll(value: unknown): void {
  const all = new Set<Tensor>();
  collect(value, all, 0);
  for (const t of all) t.dispose();
}

/** The number of tensor handles alive in the binding (for leak tests). */
export function liveTensors(): number {
  return native().live();
}

// ---------------------------------------------------------------------------------------------------
// Generic operator call

const opIds = new Map<string, number>();

/** The binding's id for an operator named "aten::name.overload" (the overload may be absent). */
function opId(op: string): number {
  let id = opIds.get(op);
  if (id === undefined) {
    const dot = op.indexOf(".", op.indexOf("::") + 2);
    id = dot < 0 ? native().opHandle(op, "") : native().opHandle(op.slice(0, dot), op.slice(dot + 1));
    opIds.set(op, id);
  }
  return id;
}

function toArg(v: unknown, op: string): unknown {
  if (v instanceof Tensor) return v.handle(op);
  if (Array.isArray(v)) return v.map((e) => (e instanceof Tensor ? e.handle(op) : e));
  return v;
}

function rawCall(op: string, args: unknown[]): unknown {
  const converted = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) converted[i] = toArg(args[i], op);
  return native().call(opId(op), converted);
}

/**
 * Calls any ATen operator by schema name, e.g. `call("aten::add.Tensor", a, b)`. Tensor arguments are
 * Tensors, dtypes are DType names converted by the caller with `dt()`, trailing defaults may be left out.
 * Returns the single Tensor result.
 */
export function call(op: string, ...args: unknown[]): Tensor {
  const r = rawCall(op, args);
  if (typeof r !== "number") throw new Error(`${op}: expected one tensor result`);
  return Tensor._wrap(r);
}

/** Like `call` for operators returning several tensors (a tuple or a tensor list). */
export function callMany(op: string, ...args: unknown[]): Tensor[] {
  const r = rawCall(op, args);
  if (!Array.isArray(r)) throw new Error(`${op}: expected several tensor results`);
  return r.map((id: unknown) => {
    if (typeof id !== "number") throw new Error(`${op}: a result is not a tensor`);
    return Tensor._wrap(id);
  });
}

/** Like `call` for operators that return nothing (the in-place `_foreach_*_` family). */
export function callVoid(op: string, ...args: unknown[]): void {
  const r = rawCall(op, args);
  if (typeof r === "number") native().free(r);
}

/** Calls an in-place operator (name ending in "_") and returns `self`. */
function callInPlace<T extends Tensor>(op: string, self: T, ...args: unknown[]): T {
  const r = rawCall(op, [self, ...args]);
  if (typeof r === "number") native().free(r);
  return self;
}

/** A DType as the ScalarType code an operator argument takes. */
export function dt(d: DType): number {
  return DTYPE_CODE[d];
}

// ---------------------------------------------------------------------------------------------------
// Tensor

export class Tensor {
  #id: number;
  #shape: number[] | undefined;
  #dtype: DType | undefined;
  /** @internal the scope that will dispose this tensor, if any */
  _scope: Set<Tensor> | undefined;

  private constructor(id: number) {
    this.#id = id;
    const scope = scopes.at(-1);
    if (scope !== undefined) {
      scope.add(this);
      this._scope = scope;
    } else {
      this._unscoped();
    }
  }

  #registered = false;

  /**
   * @internal called when no scope owns this tensor any more: only then can it be forgotten, so only then
   * does it join the GC backstop (registering costs about as much as a small op, so scoped tensors skip it).
   */
  _unscoped(): void {
    this._scope = undefined;
    if (!this.#registered && this.#id >= 0) {
      backstop.register(this, this.#id, this);
      this.#registered = true;
    }
  }

  /** @internal wraps a fresh slot number returned by the binding */
  static _wrap(id: number): Tensor {
    return new Tensor(id);
  }

  /** From a typed array (copied) with a shape; float16/bfloat16 from Uint16Array bit patterns. */
  static fromTypedArray(data: TypedArray, shape: number[], dtype: DType, device: Device = "cpu"): Tensor {
    return new Tensor(native().fromData(data, DTYPE_CODE[dtype], shape, device));
  }

  /** From raw little-endian C-order bytes (safetensors payloads); the byte length must match shape and dtype. */
  static fromBytes(bytes: Uint8Array, shape: number[], dtype: DType, device: Device = "cpu"): Tensor {
    return new Tensor(native().fromData(bytes, DTYPE_CODE[dtype], shape, device));
  }

  /** @internal the slot number, checked: using a disposed tensor is a JS error naming the operation */
  handle(op: string): number {
    if (this.#id < 0) throw new Error(`${op}: use of a disposed tensor`);
    return this.#id;
  }

  get disposed(): boolean {
    return this.#id < 0;
  }

  /** Frees the tensor now (idempotent). */
  dispose(): void {
    if (this.#id < 0) return;
    if (this.#registered) backstop.unregister(this);
    native().free(this.#id);
    this.#id = -1;
    this._scope?.delete(this);
    this._scope = undefined;
  }

  get shape(): number[] {
    if (this.#shape === undefined) this.#shape = native().shape(this.handle("shape"));
    return this.#shape.slice();
  }

  get dtype(): DType {
    if (this.#dtype === undefined) this.#dtype = dtypeFromCode(native().dtype(this.handle("dtype")));
    return this.#dtype;
  }

  get device(): Device {
    return native().device(this.handle("device"));
  }

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Size along one axis (negative counts from the end). */
  size(axis: number): number {
    const s = this.shape;
    const a = axis < 0 ? axis + s.length : axis;
    if (a < 0 || a >= s.length) throw new Error(`size: axis ${axis} out of range for shape [${s}]`);
    return s[a]!;
  }

  // -- data out ----------------------------------------------------------------------------------

  /** The elements as a typed array (copied to the CPU, C order). */
  data(): TypedArray {
    return viewBytes(native().toData(this.handle("data")), this.dtype);
  }

  /** The elements as plain numbers (int64 converted; float16/bfloat16 via float32). */
  toArray(): number[] {
    if (this.dtype === "float16" || this.dtype === "bfloat16") {
      const f = this.to("float32");
      try {
        return f.toArray();
      } finally {
        f.dispose();
      }
    }
    const d = this.data();
    return Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
  }

  /** The raw little-endian bytes (for safetensors). */
  bytes(): Uint8Array {
    return new Uint8Array(native().toData(this.handle("bytes")));
  }

  /** The value of a one-element tensor. */
  item(): number {
    return Number(native().item(this.handle("item")));
  }

  get byteLength(): number {
    return this.numel * ELEMENT_BYTES[this.dtype];
  }

  toString(): string {
    if (this.disposed) return "Tensor(disposed)";
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }

  // -- conversion ----------------------------------------------------------------------------------

  /** A copy on another device or with another dtype (the same storage when nothing changes). */
  to(target: DType | Device): Tensor {
    if (target in DTYPE_CODE) return call("aten::to.dtype", this, dt(target as DType));
    return call("aten::to.device", this, target, dt(this.dtype));
  }

  clone(): Tensor {
    return call("aten::clone", this);
  }

  contiguous(): Tensor {
    return call("aten::contiguous", this);
  }

  // -- autograd ------------------------------------------------------------------------------------

  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle("requiresGrad"));
  }

  /** Marks a leaf tensor as requiring gradients (in place); returns this. */
  setRequiresGrad(on = true): this {
    native().setRequiresGrad(this.handle("setRequiresGrad"), on);
    return this;
  }

  /** Backpropagates from this tensor; `grad` is required unless this has one element. */
  backward(grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    native().backward(this.handle("backward"), grad === undefined ? null : grad.handle("backward"), opts.retainGraph ?? false);
  }

  /** The accumulated gradient, or null. Each read is a new handle on the same storage: read it inside tidy() or dispose it. */
  get grad(): Tensor | null {
    const g = native().grad(this.handle("grad"));
    return g === null ? null : new Tensor(g);
  }

  set grad(g: Tensor | null) {
    native().setGrad(this.handle("grad"), g === null ? null : g.handle("grad"));
  }

  /** Drops the accumulated gradient (the next backward starts from none). */
  zeroGrad(): void {
    native().setGrad(this.handle("zeroGrad"), null);
  }

  detach(): Tensor {
    return call("aten::detach", this);
  }

  // -- elementwise -----------------------------------------------------------------------------------

  add(other: Tensor | number, alpha = 1): Tensor {
    return other instanceof Tensor ? call("aten::add.Tensor", this, other, alpha) : call("aten::add.Scalar", this, other, alpha);
  }
  sub(other: Tensor | number, alpha = 1): Tensor {
    return other instanceof Tensor ? call("aten::sub.Tensor", this, other, alpha) : call("aten::sub.Scalar", this, other, alpha);
  }
  /** other − this */
  rsub(other: number): Tensor {
    return call("aten::rsub.Scalar", this, other);
  }
  mul(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::mul.Tensor", this, other) : call("aten::mul.Scalar", this, other);
  }
  div(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::div.Tensor", this, other) : call("aten::div.Scalar", this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return exponent instanceof Tensor
      ? call("aten::pow.Tensor_Tensor", this, exponent)
      : call("aten::pow.Tensor_Scalar", this, exponent);
  }
  maximum(other: Tensor): Tensor {
    return call("aten::maximum", this, other);
  }
  minimum(other: Tensor): Tensor {
    return call("aten::minimum", this, other);
  }
  neg(): Tensor {
    return call("aten::neg", this);
  }
  exp(): Tensor {
    return call("aten::exp", this);
  }
  log(): Tensor {
    return call("aten::log", this);
  }
  sqrt(): Tensor {
    return call("aten::sqrt", this);
  }
  rsqrt(): Tensor {
    return call("aten::rsqrt", this);
  }
  abs(): Tensor {
    return call("aten::abs", this);
  }
  square(): Tensor {
    return call("aten::square", this);
  }
  reciprocal(): Tensor {
    return call("aten::reciprocal", this);
  }
  sin(): Tensor {
    return call("aten::sin", this);
  }
  cos(): Tensor {
    return call("aten::cos", this);
  }
  floor(): Tensor {
    return call("aten::floor", this);
  }
  sign(): Tensor {
    return call("aten::sign", this);
  }
  tanh(): Tensor {
    return call("aten::tanh", this);
  }
  sigmoid(): Tensor {
    return call("aten::sigmoid", this);
  }
  relu(): Tensor {
    return call("aten::relu", this);
  }
  silu(): Tensor {
    return call("aten::silu", this);
  }
  /** Exact (erf) GELU, or the tanh approximation. */
  gelu(approximate: "none" | "tanh" = "none"): Tensor {
    return call("aten::gelu", this, approximate);
  }
  /** First half of `axis` times the sigmoid of the second half. */
  glu(axis = -1): Tensor {
    return call("aten::glu", this, axis);
  }
  clamp(min?: number, max?: number): Tensor {
    return call("aten::clamp", this, min ?? null, max ?? null);
  }
  isfinite(): Tensor {
    return call("aten::isfinite", this);
  }

  // -- comparisons (bool results) ----------------------------------------------------------------------

  eq(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::eq.Tensor", this, other) : call("aten::eq.Scalar", this, other);
  }
  ne(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::ne.Tensor", this, other) : call("aten::ne.Scalar", this, other);
  }
  lt(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::lt.Tensor", this, other) : call("aten::lt.Scalar", this, other);
  }
  le(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::le.Tensor", this, other) : call("aten::le.Scalar", this, other);
  }
  gt(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::gt.Tensor", this, other) : call("aten::gt.Scalar", this, other);
  }
  ge(other: Tensor | number): Tensor {
    return other instanceof Tensor ? call("aten::ge.Tensor", this, other) : call("aten::ge.Scalar", this, other);
  }
  logicalAnd(other: Tensor): Tensor {
    return call("aten::logical_and", this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return call("aten::logical_or", this, other);
  }
  logicalNot(): Tensor {
    return call("aten::logical_not", this);
  }

  // -- selection -----------------------------------------------------------------------------------

  /** `value` where mask (bool, broadcasting) else this. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return call("aten::masked_fill.Scalar", this, mask, value);
  }
  indexSelect(axis: number, index: Tensor): Tensor {
    return call("aten::index_select", this, axis, index);
  }
  gather(axis: number, index: Tensor): Tensor {
    return call("aten::gather", this, axis, index);
  }
  /** A copy with out[index[i][j]][j] = src[i][j] (axis 0; likewise for other axes). */
  scatter(axis: number, index: Tensor, src: Tensor | number): Tensor {
    return src instanceof Tensor
      ? call("aten::scatter.src", this, axis, index, src)
      : call("aten::scatter.value", this, axis, index, src);
  }
  scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor {
    return call("aten::scatter_add", this, axis, index, src);
  }

  // -- matrix products -------------------------------------------------------------------------------

  matmul(other: Tensor): Tensor {
    return call("aten::matmul", this, other);
  }
  mm(other: Tensor): Tensor {
    return call("aten::mm", this, other);
  }
  bmm(other: Tensor): Tensor {
    return call("aten::bmm", this, other);
  }

  // -- activations over an axis ----------------------------------------------------------------------

  softmax(axis: number): Tensor {
    return call("aten::softmax.int", this, axis, null);
  }
  logSoftmax(axis: number): Tensor {
    return call("aten::log_softmax.int", this, axis, null);
  }

  // -- shape ---------------------------------------------------------------------------------------

  reshape(shape: number[]): Tensor {
    return call("aten::reshape", this, shape);
  }
  view(shape: number[]): Tensor {
    return call("aten::view", this, shape);
  }
  permute(dims: number[]): Tensor {
    return call("aten::permute", this, dims);
  }
  /** Swaps two axes. */
  transpose(a: number, b: number): Tensor {
    return call("aten::transpose.int", this, a, b);
  }
  unsqueeze(axis: number): Tensor {
    return call("aten::unsqueeze", this, axis);
  }
  /** Removes `axis` if it has size 1, or every size-1 axis. */
  squeeze(axis?: number): Tensor {
    return axis === undefined ? call("aten::squeeze", this) : call("aten::squeeze.dim", this, axis);
  }
  /** Broadcasts to `shape` (−1 keeps a dimension). */
  expand(shape: number[]): Tensor {
    return call("aten::expand", this, shape);
  }
  flatten(start = 0, end = -1): Tensor {
    return call("aten::flatten.using_ints", this, start, end);
  }
  /** this[start:end:step] along `axis` (torch semantics: bounds are clamped). */
  slice(axis: number, start: number, end: number, step = 1): Tensor {
    return call("aten::slice.Tensor", this, axis, start, end, step);
  }
  narrow(axis: number, start: number, length: number): Tensor {
    return call("aten::narrow", this, axis, start, length);
  }
  /** Pieces of `size` (number) or of the given sizes along `axis`. */
  split(size: number | number[], axis = 0): Tensor[] {
    return typeof size === "number"
      ? callMany("aten::split.Tensor", this, size, axis)
      : callMany("aten::split_with_sizes", this, size, axis);
  }
  chunk(chunks: number, axis = 0): Tensor[] {
    return callMany("aten::chunk", this, chunks, axis);
  }
  /** Constant padding; `pad` lists (before, after) pairs starting from the LAST axis (torch.nn.functional.pad). */
  pad(pad: number[], value = 0): Tensor {
    return call("aten::constant_pad_nd", this, pad, value);
  }
  flip(axes: number[]): Tensor {
    return call("aten::flip", this, axes);
  }
  repeat(repeats: number[]): Tensor {
    return call("aten::repeat", this, repeats);
  }

  // -- reductions ------------------------------------------------------------------------------------

  sum(axis?: number | number[], keepdim = false): Tensor {
    return axis === undefined ? call("aten::sum", this, null) : call("aten::sum.dim_IntList", this, ax(axis), keepdim);
  }
  mean(axis?: number | number[], keepdim = false): Tensor {
    return axis === undefined ? call("aten::mean", this, null) : call("aten::mean.dim", this, ax(axis), keepdim);
  }
  /** The maximum (of everything, or along `axis` with the axis removed unless keepdim). */
  max(axis?: number, keepdim = false): Tensor {
    if (axis === undefined) return call("aten::max", this);
    const [values, indices] = callMany("aten::max.dim", this, axis, keepdim);
    indices!.dispose();
    return values!;
  }
  min(axis?: number, keepdim = false): Tensor {
    if (axis === undefined) return call("aten::min", this);
    const [values, indices] = callMany("aten::min.dim", this, axis, keepdim);
    indices!.dispose();
    return values!;
  }
  /** [values, indices] of the maximum along `axis`. */
  maxWithIndices(axis: number, keepdim = false): [Tensor, Tensor] {
    return callMany("aten::max.dim", this, axis, keepdim) as [Tensor, Tensor];
  }
  amax(axis: number | number[], keepdim = false): Tensor {
    return call("aten::amax", this, ax(axis), keepdim);
  }
  argmax(axis?: number, keepdim = false): Tensor {
    return call("aten::argmax", this, axis ?? null, keepdim);
  }
  argmin(axis?: number, keepdim = false): Tensor {
    return call("aten::argmin", this, axis ?? null, keepdim);
  }
  /** [values, indices] of the k largest (or smallest) along `axis`. */
  topk(k: number, axis = -1, largest = true, sorted = true): [Tensor, Tensor] {
    return callMany("aten::topk", this, k, axis, largest, sorted) as [Tensor, Tensor];
  }
  logsumexp(axis: number | number[], keepdim = false): Tensor {
    return call("aten::logsumexp", this, ax(axis), keepdim);
  }
  cumsum(axis: number): Tensor {
    return call("aten::cumsum", this, axis, null);
  }
  /** The vector p-norm over all elements (or `axis`). */
  norm(p = 2, axis?: number | number[], keepdim = false): Tensor {
    return call("aten::linalg_vector_norm", this, p, axis === undefined ? null : ax(axis), keepdim, null);
  }
  any(): Tensor {
    return call("aten::any", this);
  }
  all(): Tensor {
    return call("aten::all", this);
  }

  // -- in place (no autograd history on leaves that require grad: use under noGrad) --------------------

  addInPlace(other: Tensor | number, alpha = 1): this {
    return other instanceof Tensor
      ? callInPlace("aten::add_.Tensor", this, other, alpha)
      : callInPlace("aten::add_.Scalar", this, other, alpha);
  }
  mulInPlace(other: Tensor | number): this {
    return other instanceof Tensor ? callInPlace("aten::mul_.Tensor", this, other) : callInPlace("aten::mul_.Scalar", this, other);
  }
  /** this += value · t1 · t2 */
  addcmulInPlace(t1: Tensor, t2: Tensor, value = 1): this {
    return callInPlace("aten::addcmul_", this, t1, t2, value);
  }
  /** this += value · t1 / t2 */
  addcdivInPlace(t1: Tensor, t2: Tensor, value = 1): this {
    return callInPlace("aten::addcdiv_", this, t1, t2, value);
  }
  copyInPlace(src: Tensor): this {
    return callInPlace("aten::copy_", this, src);
  }
  zeroInPlace(): this {
    return callInPlace("aten::zero_", this);
  }
  fillInPlace(value: number): this {
    return callInPlace("aten::fill_.Scalar", this, value);
  }
  /** Fills with U(from, to) draws (parameter initialisation; seeded by manualSeed). */
  uniformInPlace(from: number, to: number): this {
    return callInPlace("aten::uniform_", this, from, to, null);
  }
  /** Fills with N(mean, std²) draws. */
  normalInPlace(mean = 0, std = 1): this {
    return callInPlace("aten::normal_", this, mean, std, null);
  }
}

function ax(axis: number | number[]): number[] {
  return typeof axis === "number" ? [axis] : axis;
}
