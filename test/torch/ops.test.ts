// Forward values of the tensor operations against hand-computed results.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  arange,
  bernoulli,
  cat,
  conv1d,
  crossEntropy,
  dropout,
  embedding,
  full,
  layerNorm,
  linear,
  manualSeed,
  nllLoss,
  ones,
  rand,
  randint,
  randn,
  stack,
  tensor,
  tidy,
  where,
  zeros,
  batchNorm,
} from "../../src/torch/index.ts";
import { assertClose } from "./helpers.ts";

const t = tensor;

test("elementwise arithmetic broadcasts", () =>
  tidy(() => {
    const a = t([[1, 2, 3], [4, 5, 6]]);
    const b = t([10, 20, 30]);
    assert.deepEqual(a.add(b).toArray(), [11, 22, 33, 14, 25, 36]);
    assert.deepEqual(a.sub(b).toArray(), [-9, -18, -27, -6, -15, -24]);
    assert.deepEqual(a.mul(t([[2], [3]])).toArray(), [2, 4, 6, 12, 15, 18]);
    assert.deepEqual(a.div(2).toArray(), [0.5, 1, 1.5, 2, 2.5, 3]);
    assert.deepEqual(a.add(1, 2).toArray(), [3, 4, 5, 6, 7, 8]);
    assert.deepEqual(a.rsub(1).toArray(), [0, -1, -2, -3, -4, -5]);
    assert.deepEqual(a.pow(2).toArray(), [1, 4, 9, 16, 25, 36]);
    assert.deepEqual(a.neg().toArray(), [-1, -2, -3, -4, -5, -6]);
    assert.deepEqual(t([-2, 3]).abs().toArray(), [2, 3]);
    assert.deepEqual(t([1, 5]).maximum(t([3, 2])).toArray(), [3, 5]);
    assert.deepEqual(t([1, 5]).minimum(t([3, 2])).toArray(), [1, 2]);
    assert.deepEqual(t([-3, 0.5, 3]).clamp(-1, 1).toArray(), [-1, 0.5, 1]);
    assert.deepEqual(t([-3, 0.5]).clamp(0).toArray(), [0, 0.5]);
    assert.deepEqual(t([1, 2], { dtype: "int64" }).add(3).dtype, "int64");
  }));

test("unary math matches Math.*", () =>
  tidy(() => {
    const xs = [0.1, 0.5, 1, 2.5];
    const x = t(xs, { dtype: "float64" });
    assertClose(x.exp().toArray(), xs.map(Math.exp), 1e-12);
    assertClose(x.log().toArray(), xs.map(Math.log), 1e-12);
    assertClose(x.sqrt().toArray(), xs.map(Math.sqrt), 1e-12);
    assertClose(x.rsqrt().toArray(), xs.map((v) => 1 / Math.sqrt(v)), 1e-12);
    assertClose(x.tanh().toArray(), xs.map(Math.tanh), 1e-12);
    assertClose(x.sigmoid().toArray(), xs.map((v) => 1 / (1 + Math.exp(-v))), 1e-12);
    assertClose(x.sin().toArray(), xs.map(Math.sin), 1e-12);
    assertClose(x.cos().toArray(), xs.map(Math.cos), 1e-12);
    assertClose(x.reciprocal().toArray(), xs.map((v) => 1 / v), 1e-12);
  }));

test("activations: relu, silu, gelu (erf and tanh), glu", () =>
  tidy(() => {
    const xs = [-2, -0.5, 0, 0.5, 2];
    const x = t(xs, { dtype: "float64" });
    assert.deepEqual(x.relu().toArray(), [0, 0, 0, 0.5, 2]);
    assertClose(x.silu().toArray(), xs.map((v) => v / (1 + Math.exp(-v))), 1e-12);
    // GELU(x) = x·Φ(x); Φ(-2) = 0.022750131948179, Φ(-0.5) = 0.308537538725987 (normal CDF tables)
    assertClose(x.gelu().toArray(), [-2 * 0.022750131948179, -0.5 * 0.308537538725987, 0, 0.5 * 0.691462461274013, 2 * 0.977249868051821], 1e-12);
    const tanhApprox = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    assertClose(x.gelu("tanh").toArray(), xs.map(tanhApprox), 1e-12);
    const g = t([[1, 2, 0, -1]], { dtype: "float64" }).glu(1);
    assertClose(g.toArray(), [1 / (1 + Math.exp(0)), 2 / (1 + Math.exp(1))], 1e-12);
  }));

test("comparisons and logic give bool tensors", () =>
  tidy(() => {
    const a = t([1, 2, 3]);
    const b = t([3, 2, 1]);
    assert.equal(a.eq(b).dtype, "bool");
    assert.deepEqual(a.eq(b).toArray(), [0, 1, 0]);
    assert.deepEqual(a.ne(2).toArray(), [1, 0, 1]);
    assert.deepEqual(a.lt(b).toArray(), [1, 0, 0]);
    assert.deepEqual(a.le(2).toArray(), [1, 1, 0]);
    assert.deepEqual(a.gt(b).toArray(), [0, 0, 1]);
    assert.deepEqual(a.ge(2).toArray(), [0, 1, 1]);
    assert.deepEqual(a.lt(b).logicalOr(a.gt(b)).toArray(), [1, 0, 1]);
    assert.deepEqual(a.le(2).logicalAnd(a.ge(2)).toArray(), [0, 1, 0]);
    assert.deepEqual(a.eq(2).logicalNot().toArray(), [1, 0, 1]);
    assert.deepEqual(t([1, Infinity, NaN]).isfinite().toArray(), [1, 0, 0]);
  }));

test("matmul, mm, bmm and linear", () =>
  tidy(() => {
    const a = t([[1, 2], [3, 4]]);
    const b = t([[5, 6], [7, 8]]);
    assert.deepEqual(a.matmul(b).toArray(), [19, 22, 43, 50]);
    assert.deepEqual(a.mm(b).toArray(), [19, 22, 43, 50]);
    const ba = stack([a, b]);
    assert.deepEqual(ba.bmm(stack([b, a])).toArray(), [19, 22, 43, 50, 23, 34, 31, 46]);
    // batched matmul broadcasting over leading axes: (2,2,2) @ (2,2)
    assert.deepEqual(ba.matmul(a).toArray(), [7, 10, 15, 22, 23, 34, 31, 46]);
    // linear: x @ wᵀ + b
    const x = t([[1, 1], [2, 0]]);
    const w = t([[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(linear(x, w, t([0.5, 0, -1])).toArray(), [3.5, 7, 10, 2.5, 6, 9]);
    assert.deepEqual(linear(x, w).shape, [2, 3]);
  }));

test("conv1d with padding, stride and groups (depthwise)", () =>
  tidy(() => {
    // x (1, 1, 5) = 1..5, kernel [1, 0, -1], padding 1: y[i] = x[i-1] - x[i+1]
    const x = t([[[1, 2, 3, 4, 5]]]);
    const w = t([[[1, 0, -1]]]);
    assert.deepEqual(conv1d(x, w, undefined, { padding: 1 }).toArray(), [-2, -2, -2, -2, 4]);
    assert.deepEqual(conv1d(x, w, t([10]), { padding: 1, stride: 2 }).toArray(), [8, 8, 14]);
    // depthwise: 2 channels, each its own kernel
    const x2 = t([[[1, 2, 3], [10, 20, 30]]]);
    const w2 = t([[[1, 1]], [[1, -1]]]);
    const y = conv1d(x2, w2, undefined, { groups: 2 });
    assert.deepEqual(y.shape, [1, 2, 2]);
    assert.deepEqual(y.toArray(), [3, 5, -10, -10]);
  }));

test("layer_norm and batch_norm (train updates running stats, eval uses them)", () =>
  tidy(() => {
    const x = t([[1, 2, 3, 4]], { dtype: "float64" });
    // mean 2.5, biased variance 1.25
    const s = Math.sqrt(1.25 + 1e-5);
    assertClose(layerNorm(x, undefined, undefined, 1e-5).toArray(), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], 1e-12);
    const wl = t([1, 2, 1, 2], { dtype: "float64" });
    const bl = t([0, 0, 1, 1], { dtype: "float64" });
    assertClose(layerNorm(x, wl, bl, 1e-5).toArray(), [-1.5 / s, -1 / s, 0.5 / s + 1, 3 / s + 1], 1e-12);

    // (B=2, C=1, T=2): values 1,3,5,7: mean 4, biased var 5, unbiased var 20/3
    const xb = t([[[1, 3]], [[5, 7]]], { dtype: "float64" });
    const rm = zeros([1], { dtype: "float64" });
    const rv = ones([1], { dtype: "float64" });
    const y = batchNorm(xb, rm, rv, undefined, undefined, true, 0.1, 0);
    const sd = Math.sqrt(5);
    assertClose(y.toArray(), [-3 / sd, -1 / sd, 1 / sd, 3 / sd], 1e-12);
    assertClose(rm.toArray(), [0.4], 1e-12);
    assertClose(rv.toArray(), [0.9 + 0.1 * (20 / 3)], 1e-12);
    const ye = batchNorm(t([[[1.4]]], { dtype: "float64" }), rm, rv, t([2], { dtype: "float64" }), t([1], { dtype: "float64" }), false, 0.1, 0);
    assertClose(ye.toArray(), [2 * (1 / Math.sqrt(0.9 + 2 / 3)) + 1], 1e-12);
  }));

test("softmax and log_softmax", () =>
  tidy(() => {
    const x = t([[1, 2, 3]], { dtype: "float64" });
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertClose(x.softmax(1).toArray(), [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z], 1e-12);
    assertClose(x.logSoftmax(-1).toArray(), [1 - Math.log(z), 2 - Math.log(z), 3 - Math.log(z)], 1e-12);
  }));

test("dropout: identity in eval, inverted scaling in training", () =>
  tidy(() => {
    manualSeed(3);
    const x = ones([1000]);
    assert.deepEqual(dropout(x, 0.5, false).toArray(), x.toArray());
    const y = dropout(x, 0.25, true).toArray();
    for (const v of y) assert.ok(v === 0 || Math.abs(v - 1 / 0.75) < 1e-6, `unexpected ${v}`);
    const kept = y.filter((v) => v !== 0).length;
    assert.ok(kept > 650 && kept < 850, `kept ${kept} of 1000 at p=0.25`);
  }));

test("embedding picks rows", () =>
  tidy(() => {
    const w = t([[0, 0], [1, 2], [3, 4]]);
    const e = embedding(w, t([[2, 1], [0, 2]], { dtype: "int64" }));
    assert.deepEqual(e.shape, [2, 2, 2]);
    assert.deepEqual(e.toArray(), [3, 4, 1, 2, 0, 0, 3, 4]);
  }));

test("shape operations", () =>
  tidy(() => {
    const x = arange(6, undefined, 1, { dtype: "float32" });
    const m = x.reshape([2, 3]);
    assert.deepEqual(m.shape, [2, 3]);
    assert.deepEqual(x.view([3, -1]).shape, [3, 2]);
    assert.deepEqual(m.transpose(0, 1).toArray(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(m.permute([1, 0]).contiguous().toArray(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(m.unsqueeze(1).shape, [2, 1, 3]);
    assert.deepEqual(m.unsqueeze(1).squeeze(1).shape, [2, 3]);
    assert.deepEqual(zeros([1, 2, 1]).squeeze().shape, [2]);
    assert.deepEqual(t([[1], [2]]).expand([2, 3]).toArray(), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(zeros([2, 3, 4]).flatten(1).shape, [2, 12]);
    assert.deepEqual(cat([m, m], 0).shape, [4, 3]);
    assert.deepEqual(cat([m, m], 1).toArray(), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    assert.deepEqual(stack([x, x], 1).shape, [6, 2]);
    assert.deepEqual(x.split(4).map((p) => p.toArray()), [[0, 1, 2, 3], [4, 5]]);
    assert.deepEqual(x.split([1, 5]).map((p) => p.shape[0]), [1, 5]);
    assert.deepEqual(x.chunk(3).map((p) => p.toArray()), [[0, 1], [2, 3], [4, 5]]);
    assert.deepEqual(t([[1, 2]]).pad([1, 2], 9).toArray(), [9, 1, 2, 9, 9]);
    assert.deepEqual(t([[1, 2]]).pad([0, 0, 1, 0]).toArray(), [0, 0, 1, 2]);
    assert.deepEqual(m.slice(1, 1, 3).toArray(), [1, 2, 4, 5]);
    assert.deepEqual(m.narrow(1, 0, 1).toArray(), [0, 3]);
    assert.deepEqual(x.flip([0]).toArray(), [5, 4, 3, 2, 1, 0]);
    assert.deepEqual(t([1, 2]).repeat([2]).toArray(), [1, 2, 1, 2]);
    assert.equal(m.size(-1), 3);
    assert.equal(m.numel, 6);
  }));

test("index_select, gather, scatter, masked_fill, where", () =>
  tidy(() => {
    const m = t([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(m.indexSelect(1, t([2, 0], { dtype: "int64" })).toArray(), [3, 1, 6, 4]);
    assert.deepEqual(m.gather(1, t([[0, 0], [2, 1]], { dtype: "int64" })).toArray(), [1, 1, 6, 5]);
    const z = zeros([2, 3]);
    assert.deepEqual(z.scatter(1, t([[2], [0]], { dtype: "int64" }), t([[7], [8]])).toArray(), [0, 0, 7, 8, 0, 0]);
    assert.deepEqual(z.scatter(1, t([[1], [1]], { dtype: "int64" }), 5).toArray(), [0, 5, 0, 0, 5, 0]);
    assert.deepEqual(
      zeros([3]).scatterAdd(0, t([0, 0, 2], { dtype: "int64" }), t([1, 2, 3])).toArray(),
      [3, 0, 3],
    );
    const mask = t([true, false, true]);
    assert.deepEqual(m.maskedFill(mask, -1).toArray(), [-1, 2, -1, -1, 5, -1]);
    assert.deepEqual(where(mask, t([1, 2, 3]), t([9, 8, 7])).toArray(), [1, 8, 3]);
    assert.deepEqual(where(mask, t([1, 2, 3]), 0).toArray(), [1, 0, 3]);
  }));

test("reductions", () =>
  tidy(() => {
    const m = t([[1, 5, 3], [4, 2, 6]], { dtype: "float64" });
    assert.equal(m.sum().item(), 21);
    assert.deepEqual(m.sum(0).toArray(), [5, 7, 9]);
    assert.deepEqual(m.sum(1, true).shape, [2, 1]);
    assert.deepEqual(m.sum([0, 1]).toArray(), [21]);
    assert.equal(m.mean().item(), 3.5);
    assert.deepEqual(m.mean(1).toArray(), [3, 4]);
    assert.equal(m.max().item(), 6);
    assert.deepEqual(m.max(1).toArray(), [5, 6]);
    assert.equal(m.min().item(), 1);
    assert.deepEqual(m.min(0).toArray(), [1, 2, 3]);
    const [v, i] = m.maxWithIndices(1);
    assert.deepEqual(v.toArray(), [5, 6]);
    assert.deepEqual(i.toArray(), [1, 2]);
    assert.deepEqual(m.amax(0).toArray(), [4, 5, 6]);
    assert.deepEqual(m.argmax(1).toArray(), [1, 2]);
    assert.equal(m.argmax(1).dtype, "int64");
    assert.equal(m.argmax().item(), 5);
    assert.deepEqual(m.argmin(1).toArray(), [0, 1]);
    const [tv, ti] = t([3, 1, 4, 1, 5]).topk(2);
    assert.deepEqual(tv.toArray(), [5, 4]);
    assert.deepEqual(ti.toArray(), [4, 2]);
    assert.deepEqual(t([3, 1, 4]).topk(1, -1, false)[0].toArray(), [1]);
    assertClose(m.logsumexp(1).toArray(), [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(2) + Math.exp(6))], 1e-12);
    assert.deepEqual(t([1, 2, 3]).cumsum(0).toArray(), [1, 3, 6]);
    assertClose(t([3, 4]).norm().toArray(), [5]);
    assert.equal(t([false, true]).any().item(), 1);
    assert.equal(t([false, true]).all().item(), 0);
  }));

test("creation: zeros, ones, full, arange, rand, randn, randint, bernoulli", () =>
  tidy(() => {
    assert.deepEqual(zeros([2, 2]).toArray(), [0, 0, 0, 0]);
    assert.deepEqual(ones([3], { dtype: "int32" }).data(), new Int32Array([1, 1, 1]));
    assert.deepEqual(full([2], 2.5).toArray(), [2.5, 2.5]);
    assert.deepEqual(arange(2, 8, 3).toArray(), [2, 5]);
    assert.deepEqual(arange(0, 1, 0.25).toArray(), [0, 0.25, 0.5, 0.75]);
    assert.equal(arange(0, 1, 0.25).dtype, "float32");
    manualSeed(7);
    const r1 = rand([100]).toArray();
    assert.ok(r1.every((v) => v >= 0 && v < 1));
    manualSeed(7);
    assert.deepEqual(rand([100]).toArray(), r1, "manualSeed makes rand reproducible");
    const n = randn([20000]);
    assert.ok(Math.abs(n.mean().item()) < 0.05);
    assert.ok(Math.abs(n.square().mean().item() - 1) < 0.05);
    const ri = randint(3, 6, [1000]);
    assert.equal(ri.dtype, "int64");
    const vals = ri.toArray();
    assert.ok(vals.every((v) => v >= 3 && v < 6) && new Set(vals).size === 3);
    const b = bernoulli(0.3, zeros([10000])).mean().item();
    assert.ok(Math.abs(b - 0.3) < 0.03, `bernoulli mean ${b}`);
    assert.deepEqual(bernoulli(t([0, 1, 1, 0])).toArray(), [0, 1, 1, 0]);
  }));

test("cross_entropy and nll_loss", () =>
  tidy(() => {
    const logits = t([[1, 2, 3], [1, 1, 1]], { dtype: "float64" });
    const target = t([2, 0], { dtype: "int64" });
    const z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const l0 = z - 3;
    const l1 = Math.log(3);
    assertClose(crossEntropy(logits, target, { reduction: "none" }).toArray(), [l0, l1], 1e-12);
    assertClose([crossEntropy(logits, target).item()], [(l0 + l1) / 2], 1e-12);
    assertClose([crossEntropy(logits, t([2, -100], { dtype: "int64" })).item()], [l0], 1e-12);
    assertClose([nllLoss(logits.logSoftmax(1), target, { reduction: "sum" }).item()], [l0 + l1], 1e-12);
  }));

test("dtype conversion and typed arrays", () =>
  tidy(() => {
    const x = t([1.5, -2.25, 3]);
    assert.deepEqual(x.to("float64").data(), new Float64Array([1.5, -2.25, 3]));
    assert.deepEqual(x.to("int32").data(), new Int32Array([1, -2, 3]));
    assert.deepEqual(x.to("int64").data(), new BigInt64Array([1n, -2n, 3n]));
    assert.deepEqual(x.to("bool").toArray(), [1, 1, 1]);
    // 1.5 = 0x3FC0 in bfloat16 and 0x3E00 in float16
    assert.equal((x.to("bfloat16").data() as Uint16Array)[0], 0x3fc0);
    assert.equal((x.to("float16").data() as Uint16Array)[0], 0x3e00);
    assert.deepEqual(x.to("float16").toArray(), [1.5, -2.25, 3]);
    assert.deepEqual(t(new Uint16Array([0x3fc0]), { dtype: "bfloat16" }).toArray(), [1.5]);
    assert.deepEqual(t(new BigInt64Array([5n])).dtype, "int64");
    assert.deepEqual(t(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).shape, [2, 2]);
    assert.equal(t(3.5).item(), 3.5);
    assert.equal(x.to("cpu").device, "cpu");
    assert.deepEqual(x.clone().toArray(), [1.5, -2.25, 3]);
  }));

test("in-place fills: uniform, normal, fill, zero, copy, add, mul, addcmul, addcdiv", () =>
  tidy(() => {
    manualSeed(5);
    const u = zeros([20000]).uniformInPlace(-2, 3);
    const uv = u.toArray();
    assert.ok(uv.every((v) => v >= -2 && v < 3));
    assert.ok(Math.abs(u.mean().item() - 0.5) < 0.05);
    const n = zeros([20000]).normalInPlace(1, 2);
    assert.ok(Math.abs(n.mean().item() - 1) < 0.06);
    assert.ok(Math.abs(n.sub(1).square().mean().sqrt().item() - 2) < 0.06);
    const x = t([1, 2]);
    assert.equal(x.fillInPlace(4), x);
    assert.deepEqual(x.toArray(), [4, 4]);
    assert.deepEqual(x.addInPlace(t([1, 2]), 2).toArray(), [6, 8]);
    assert.deepEqual(x.mulInPlace(0.5).toArray(), [3, 4]);
    assert.deepEqual(x.addcmulInPlace(t([1, 2]), t([3, 4]), 2).toArray(), [9, 20]);
    assert.deepEqual(x.addcdivInPlace(t([9, 20]), t([3, 4]), -1).toArray(), [6, 15]);
    assert.deepEqual(x.copyInPlace(t([7, 8])).toArray(), [7, 8]);
    assert.deepEqual(x.zeroInPlace().toArray(), [0, 0]);
  }));
