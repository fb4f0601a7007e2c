// Tensor creation and the operations that take several tensors or are not naturally methods:
// concatenation, selection, the network layers' functional forms and the losses.
import { arrayOf, dtypeOfArray, type DType, type TypedArray } from "./dtype.ts";
import { call, dt, Tensor, type Device } from "./tensor.ts";

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

type Nested = number | boolean | Nested[];

let defaultDevice: Device = "cpu";

/**
 * The device that creation functions use when none is named (torch.set_default_device). Lets a whole
 * program, or the test suite with NAST_TEST_DEVICE=cuda, run on a GPU without threading a device through.
 */
export function setDefaultDevice(device: Device): void {
  defaultDevice = device;
}

export function getDefaultDevice(): Device {
  return defaultDevice;
}

function shapeOf(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0] as Nested;
  }
  return shape;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.setRequiresGrad(true);
  return t;
}

/**
 * A tensor from nested arrays of numbers/booleans, or a typed array with `shape` (copied). The dtype defaults
 * to float32 for numbers, bool for booleans, or the typed array's own type.
 */
export function tensor(data: Nested | TypedArray, opts: CreateOptions & { shape?: number[] } = {}): Tensor {
  let flat: TypedArray;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    dtype = opts.dtype ?? dtypeOfArray(data);
    shape = opts.shape ?? [data.length];
    flat = data;
    if (dtype === "float16" || dtype === "bfloat16" || (dtype === "bool" && data instanceof Uint8Array)) {
      // raw bit patterns / bytes: taken as they are
    } else if (dtypeOfArray(data) !== dtype) {
      flat = arrayOf(data as ArrayLike<number | bigint>, dtype);
    }
  } else {
    shape = opts.shape ?? shapeOf(data);
    const values = Array.isArray(data) ? ((data as unknown[]).flat(Infinity) as (number | boolean)[]) : [data];
    dtype = opts.dtype ?? (typeof values[0] === "boolean" ? "bool" : "float32");
    flat = arrayOf(values, dtype);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== flat.length) throw new Error(`tensor: ${flat.length} values given for shape [${shape}]`);
  return finish(Tensor.fromTypedArray(flat, shape, dtype, opts.device ?? defaultDevice), opts);
}

/** A 0-dimensional tensor. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return finish(call("aten::scalar_tensor", value, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

export function zeros(shape: number[], opts: CreateOptions = {}): Tensor {
  return finish(call("aten::zeros", shape, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

export function ones(shape: number[], opts: CreateOptions = {}): Tensor {
  return finish(call("aten::ones", shape, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

export function full(shape: number[], value: number, opts: CreateOptions = {}): Tensor {
  return finish(call("aten::full", shape, value, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

export function zerosLike(x: Tensor): Tensor {
  return call("aten::zeros_like", x);
}

export function onesLike(x: Tensor): Tensor {
  return call("aten::ones_like", x);
}

export function fullLike(x: Tensor, value: number): Tensor {
  return call("aten::full_like", x, value);
}

/** start, start+step, … < end (int64 by default when all bounds are integers, else float32). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const integral = Number.isInteger(s) && Number.isInteger(e) && Number.isInteger(step);
  const dtype = opts.dtype ?? (integral ? "int64" : "float32");
  return call("aten::arange.start_step", s, e, step, dt(dtype), null, opts.device ?? defaultDevice);
}

/** Uniform on [0, 1). */
export function rand(shape: number[], opts: CreateOptions = {}): Tensor {
  return finish(call("aten::rand", shape, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

/** Standard normal. */
export function randn(shape: number[], opts: CreateOptions = {}): Tensor {
  return finish(call("aten::randn", shape, dt(opts.dtype ?? "float32"), null, opts.device ?? defaultDevice), opts);
}

/** Integers uniform on [low, high), int64 by default. */
export function randint(low: number, high: number, shape: number[], opts: CreateOptions = {}): Tensor {
  return call("aten::randint.low", low, high, shape, dt(opts.dtype ?? "int64"), null, opts.device ?? defaultDevice);
}

/** 1 with probability p (a number: shape of `like`; a tensor: elementwise probabilities), else 0. */
export function bernoulli(p: Tensor | number, like?: Tensor): Tensor {
  if (p instanceof Tensor) return call("aten::bernoulli", p, null);
  if (like === undefined) throw new Error("bernoulli: a scalar probability needs a tensor giving the shape");
  return call("aten::bernoulli.p", like, p, null);
}

// -- several tensors ---------------------------------------------------------------------------------

export function cat(xs: Tensor[], axis = 0): Tensor {
  return call("aten::cat", xs, axis);
}

export function stack(xs: Tensor[], axis = 0): Tensor {
  return call("aten::stack", xs, axis);
}

/** a where cond else b (broadcasting). */
export function where(cond: Tensor, a: Tensor, b: Tensor | number): Tensor {
  return b instanceof Tensor ? call("aten::where.self", cond, a, b) : call("aten::where.ScalarOther", cond, a, b);
}

// -- layers in functional form --------------------------------------------------------------------------

/** x @ wᵀ + b, w in torch layout (out, in). */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  return call("aten::linear", x, w, b ?? null);
}

/** x (B, Cin, T), w (Cout, Cin/groups, K). */
export function conv1d(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  opts: { stride?: number; padding?: number; dilation?: number; groups?: number } = {},
): Tensor {
  return call("aten::conv1d", x, w, b ?? null, [opts.stride ?? 1], [opts.padding ?? 0], [opts.dilation ?? 1], opts.groups ?? 1);
}

/** Layer normalization over the trailing `normalizedShape` axes (default: the last axis). */
export function layerNorm(x: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps = 1e-5, normalizedShape?: number[]): Tensor {
  const shape = normalizedShape ?? [x.size(-1)];
  return call("aten::layer_norm", x, shape, weight ?? null, bias ?? null, eps, true);
}

/**
 * Batch normalization of x (B, C) or (B, C, T). Training: batch statistics, and `runningMean`/`runningVar`
 * updated in place with `momentum` (torch convention: new = (1 − m)·old + m·batch, unbiased variance).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | undefined,
  runningVar: Tensor | undefined,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  training: boolean,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  return call("aten::batch_norm", x, weight ?? null, bias ?? null, runningMean ?? null, runningVar ?? null, training, momentum, eps, true);
}

/** Inverted dropout: zeroes with probability p and scales the rest by 1/(1−p); the identity unless training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!training || p === 0) return call("aten::alias", x);
  return call("aten::dropout", x, p, true);
}

/** Rows of `weight` (V, D) at int64 `indices`. */
export function embedding(weight: Tensor, indices: Tensor, paddingIdx = -1): Tensor {
  return call("aten::embedding", weight, indices, paddingIdx);
}

// -- losses --------------------------------------------------------------------------------------------

export type Reduction = "none" | "mean" | "sum";
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/**
 * CTC loss (Graves et al. 2006) as torch.nn.functional.ctc_loss: logProbs (T, B, V) log-softmaxed, targets
 * (B, S) int64 padded (or concatenated 1-D), lengths int64 (B). "mean" divides each loss by its target
 * length before averaging over the batch; zeroInfinity replaces impossible alignments' inf by 0.
 */
export function ctcLoss(
  logProbs: Tensor,
  targets: Tensor,
  inputLengths: Tensor,
  targetLengths: Tensor,
  opts: { blank?: number; reduction?: Reduction; zeroInfinity?: boolean } = {},
): Tensor {
  return call(
    "aten::ctc_loss.Tensor",
    logProbs,
    targets,
    inputLengths,
    targetLengths,
    opts.blank ?? 0,
    REDUCTION[opts.reduction ?? "mean"],
    opts.zeroInfinity ?? false,
  );
}

/** Cross entropy of logits (N, C, ...) against int64 class targets (N, ...). */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number; weight?: Tensor } = {},
): Tensor {
  return call(
    "aten::cross_entropy_loss",
    logits,
    target,
    opts.weight ?? null,
    REDUCTION[opts.reduction ?? "mean"],
    opts.ignoreIndex ?? -100,
    opts.labelSmoothing ?? 0,
  );
}

/** Negative log-likelihood of log-probabilities (N, C, ...) at int64 targets (N, ...). */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: { reduction?: Reduction; ignoreIndex?: number; weight?: Tensor } = {}): Tensor {
  return call("aten::nll_loss_nd", logProbs, target, opts.weight ?? null, REDUCTION[opts.reduction ?? "mean"], opts.ignoreIndex ?? -100);
}

/** Mean squared error. */
export function mseLoss(x: Tensor, y: Tensor, reduction: Reduction = "mean"): Tensor {
  return call("aten::mse_loss", x, y, REDUCTION[reduction]);
}

