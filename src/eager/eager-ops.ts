// Ops<Tensor>: the model's operations executed eagerly by libtorch (training, validation, curriculum).
// Semantics follow src/model/ops.ts, i.e. ONNX where ONNX and torch differ (reshape's 0, Transpose's perm,
// Slice bounds), so that the ONNX graph builder and this class compute the same function.
import {
  arange,
  batchNorm,
  cat,
  conv1d,
  dropout,
  layerNorm,
  linear,
  Tensor,
  where,
  call,
  tensor,
} from "../torch/index.ts";
import { sinusoidFrequencies, type ConvOptions, type Ops } from "../model/ops.ts";

export class EagerOps implements Ops<Tensor> {
  constructor(
    private readonly params: Map<string, Tensor>,
    readonly training: boolean,
  ) {}

  param(name: string): Tensor {
    const p = this.params.get(name);
    if (p === undefined) throw new Error(`EagerOps.param: no parameter or buffer named "${name}"`);
    return p;
  }

  add(a: Tensor, b: Tensor | number): Tensor {
    return a.add(b);
  }
  sub(a: Tensor, b: Tensor | number): Tensor {
    return a.sub(b);
  }
  mul(a: Tensor, b: Tensor | number): Tensor {
    return a.mul(b);
  }
  div(a: Tensor, b: Tensor | number): Tensor {
    return a.div(b);
  }
  exp(x: Tensor): Tensor {
    return x.exp();
  }
  log(x: Tensor): Tensor {
    return x.log();
  }
  sqrt(x: Tensor): Tensor {
    return x.sqrt();
  }
  tanh(x: Tensor): Tensor {
    return x.tanh();
  }
  sigmoid(x: Tensor): Tensor {
    return x.sigmoid();
  }
  relu(x: Tensor): Tensor {
    return x.relu();
  }
  silu(x: Tensor): Tensor {
    return x.silu();
  }
  /**
   * Exact (erf) GELU, as ONNX Gelu's default, written as x·½·(1 + erf(x/√2)): libtorch 1.13's CPU gelu
   * backward is wrong when the incoming gradient is non-contiguous, which LiSA's head-alignment matmul
   * hands it (measured: |Δgrad| 4.47 against a contiguous gradient; grad norms of ~1e19 in training).
   */
  gelu(x: Tensor): Tensor {
    const erf = call("aten::erf", x.mul(Math.SQRT1_2));
    return x.mul(0.5).mul(erf.add(1));
  }
  glu(x: Tensor, axis: number): Tensor {
    return x.glu(axis);
  }
  softmax(x: Tensor, axis: number): Tensor {
    return x.softmax(axis);
  }
  logSoftmax(x: Tensor, axis: number): Tensor {
    return x.logSoftmax(axis);
  }

  matmul(a: Tensor, b: Tensor): Tensor {
    return a.matmul(b);
  }
  linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
    return linear(x, w, b);
  }
  layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
    return layerNorm(x, weight, bias, eps);
  }
  conv1d(x: Tensor, w: Tensor, b: Tensor | undefined, opts: ConvOptions): Tensor {
    return conv1d(x, w, b, { stride: opts.stride, padding: opts.padding, groups: opts.groups ?? 1 });
  }
  batchNorm(x: Tensor, prefix: string, eps: number, momentum: number): Tensor {
    return batchNorm(
      x,
      this.param(`${prefix}.running_mean`),
      this.param(`${prefix}.running_var`),
      this.param(`${prefix}.weight`),
      this.param(`${prefix}.bias`),
      this.training,
      momentum,
      eps,
    );
  }
  dropout(x: Tensor, p: number): Tensor {
    return dropout(x, p, this.training);
  }

  /** ONNX Reshape: 0 copies the input's dim at that index, −1 is inferred. */
  reshape(x: Tensor, shape: number[]): Tensor {
    const dims = shape.includes(0) ? shape.map((d, i) => (d === 0 ? x.size(i) : d)) : shape;
    return x.reshape(dims);
  }
  reshapeLike(x: Tensor, like: Tensor): Tensor {
    return x.reshape(like.shape);
  }
  /** ONNX Transpose: output axis i is input axis perm[i]. */
  transpose(x: Tensor, perm: number[]): Tensor {
    return x.permute(perm);
  }
  unsqueeze(x: Tensor, axis: number): Tensor {
    return x.unsqueeze(axis);
  }
  cat(xs: Tensor[], axis: number): Tensor {
    return cat(xs, axis);
  }
  /** ONNX Slice with step 1: negative bounds count from the end; bounds are clamped to the size. */
  slice(x: Tensor, axis: number, start: number, end: number): Tensor {
    const n = x.size(axis);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const s = clamp(start);
    return x.slice(axis, s, Math.max(clamp(end), s));
  }
  where(cond: Tensor, a: Tensor, b: Tensor | number): Tensor {
    return where(cond, a, b);
  }
  maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
    return x.maskedFill(mask, value);
  }
  argmax(x: Tensor, axis: number): Tensor {
    return x.argmax(axis);
  }
  max(x: Tensor, axis: number): Tensor {
    return x.max(axis);
  }
  sum(x: Tensor, axis: number): Tensor {
    return x.sum(axis);
  }
  /** ONNX Gather: x.shape[:axis] + indices.shape + x.shape[axis+1:]; negative indices count from the end. */
  gather(x: Tensor, indices: Tensor, axis: number): Tensor {
    const shape = x.shape;
    const a = axis < 0 ? axis + shape.length : axis;
    const flat = indices.reshape([-1]);
    const negative = flat.lt(0);
    const shifted = flat.add(shape[a]!);
    const wrapped = where(negative, shifted, flat);
    const picked = x.indexSelect(a, wrapped);
    const out = picked.reshape([...shape.slice(0, a), ...indices.shape, ...shape.slice(a + 1)]);
    for (const tmp of [flat, negative, shifted, wrapped, picked]) tmp.dispose();
    return out;
  }

  /** (B, T) bool, true where t >= lengths[b]. */
  paddingMask(lengths: Tensor, x: Tensor, axis: number): Tensor {
    const steps = arange(0, x.size(axis), 1, { dtype: "int64", device: lengths.device });
    const row = steps.unsqueeze(0);
    const col = lengths.unsqueeze(1);
    const mask = row.ge(col);
    steps.dispose();
    row.dispose();
    col.dispose();
    return mask;
  }

  /** floor((L + 2·padding − kernel) / stride) + 1, int64. */
  convLength(lengths: Tensor, kernel: number, stride: number, padding: number): Tensor {
    const shifted = lengths.to("int64").add(2 * padding - kernel);
    const divided = call("aten::div.Scalar_mode", shifted, stride, "floor");
    const out = divided.add(1);
    shifted.dispose();
    divided.dispose();
    return out;
  }

  /**
   * ESPnet's RelPositionalEncoding (new style, espnet/nets/pytorch_backend/transformer/embedding.py): rows
   * for offsets T−1, T−2, …, −(T−1); even dims sin(offset·ω_i), odd dims cos(offset·ω_i), ω_i = 10000^(−2i/d).
   * Shape (1, 2T−1, d), float32, on x's device.
   */
  relPositions(x: Tensor, axis: number, d: number): Tensor {
    const t = x.size(axis);
    const device = x.device;
    const offsets = arange(t - 1, -t, -1, { dtype: "float32", device });
    const freqExp = arange(0, d, 2, { dtype: "float32", device });
    const freqs = freqExp.mul(-Math.log(10000) / d).exp();
    const off2 = offsets.unsqueeze(1);
    const frq2 = freqs.unsqueeze(0);
    const angles = off2.mul(frq2);
    const sin = angles.sin();
    const cos = angles.cos();
    const both = call("aten::stack", [sin, cos], 2);
    const table = both.reshape([2 * t - 1, d]);
    const out = table.unsqueeze(0);
    for (const tmp of [offsets, freqExp, freqs, off2, frq2, angles, sin, cos, both, table]) tmp.dispose();
    return out;
  }

  /**
   * Transformer-XL relative shift (Dai et al. 2019; ESPnet RelPositionMultiHeadedAttention.rel_shift):
   * pad one zero column in front, view (2T, T), drop the first row, view back and keep T columns, which
   * gives out[b, h, i, j] = x[b, h, i, T−1−i+j].
   */
  relShift(x: Tensor): Tensor {
    const [b, h, t, p] = x.shape as [number, number, number, number];
    if (p !== 2 * t - 1) throw new Error(`relShift: expected (B, H, T, 2T-1), got [${x.shape}]`);
    const padded = x.pad([1, 0]);
    const tall = padded.reshape([b, h, 2 * t, t]);
    const dropped = tall.slice(2, 1, 2 * t);
    const back = dropped.reshape([b, h, t, 2 * t - 1]);
    const out = back.slice(3, 0, t);
    for (const tmp of [padded, tall, dropped, back]) tmp.dispose();
    return out;
  }

  range(x: Tensor, axis: number): Tensor {
    return arange(0, x.size(axis), 1, { dtype: "int64", device: x.device });
  }

  causalMask(x: Tensor, axis: number): Tensor {
    const steps = this.range(x, axis);
    const keys = steps.unsqueeze(0);
    const queries = steps.unsqueeze(1);
    const mask = keys.gt(queries);
    for (const tmp of [steps, keys, queries]) tmp.dispose();
    return mask;
  }

  sinusoid(positions: Tensor, d: number): Tensor {
    const freqs = tensor(sinusoidFrequencies(d), { shape: [d / 2], dtype: "float32", device: positions.device });
    const p = positions.to("float32").unsqueeze(-1);
    const angles = p.mul(freqs);
    const sin = angles.sin();
    const cos = angles.cos();
    const out = cat([sin, cos], -1);
    for (const tmp of [freqs, p, angles, sin, cos]) tmp.dispose();
    return out;
  }
}
