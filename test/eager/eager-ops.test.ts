// EagerOps (src/eager/eager-ops.ts) against hand-computed values of the ONNX semantics in src/model/ops.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { arange, manualSeed, ones, tensor, tidy, zeros, type Tensor } from "../../src/torch/index.ts";
import { assertClose } from "../torch/helpers.ts";

const i64 = (values: number[], shape?: number[]) => tensor(values, { dtype: "int64", shape });
const ops = (training = false, params = new Map<string, Tensor>()) => new EagerOps(params, training);

test("eager: param lookup names the missing parameter", () =>
  tidy(() => {
    const w = ones([2]);
    const o = ops(false, new Map([["enc.w", w]]));
    assert.equal(o.param("enc.w"), w);
    assert.throws(() => o.param("enc.x"), /no parameter or buffer named "enc\.x"/);
  }));

test("eager: reshape follows ONNX (0 copies the input dim, -1 inferred)", () =>
  tidy(() => {
    const o = ops();
    const x = zeros([2, 3, 4]);
    assert.deepEqual(o.reshape(x, [0, -1]).shape, [2, 12]);
    assert.deepEqual(o.reshape(x, [0, 0, 2, 2]).shape, [2, 3, 2, 2]);
    assert.deepEqual(o.reshape(x, [-1, 4]).shape, [6, 4]);
  }));

test("eager: transpose is ONNX Transpose (output axis i = input axis perm[i])", () =>
  tidy(() => {
    const x = arange(0, 6, 1, { dtype: "float32" }).reshape([1, 2, 3]);
    const y = ops().transpose(x, [2, 0, 1]);
    assert.deepEqual(y.shape, [3, 1, 2]);
    assert.deepEqual(y.toArray(), [0, 3, 1, 4, 2, 5]);
  }));

test("eager: slice with negative and out-of-range bounds", () =>
  tidy(() => {
    const o = ops();
    const x = arange(0, 10, 1, { dtype: "float32" });
    assert.deepEqual(o.slice(x, 0, -3, 100).toArray(), [7, 8, 9]);
    assert.deepEqual(o.slice(x, 0, 2, -5).toArray(), [2, 3, 4]);
    assert.deepEqual(o.slice(x, 0, 8, 3).toArray(), []);
    assert.deepEqual(o.slice(x.reshape([2, 5]), -1, 1, 3).toArray(), [1, 2, 6, 7]);
  }));

test("eager: elementwise, activations, reductions, where, maskedFill, argmax, max, sum, cat, unsqueeze", () =>
  tidy(() => {
    const o = ops();
    const a = tensor([[1, -2], [3, 4]]);
    assert.deepEqual(o.add(a, 1).toArray(), [2, -1, 4, 5]);
    assert.deepEqual(o.sub(a, a).toArray(), [0, 0, 0, 0]);
    assert.deepEqual(o.mul(a, tensor([2, 3])).toArray(), [2, -6, 6, 12]);
    assert.deepEqual(o.div(a, 2).toArray(), [0.5, -1, 1.5, 2]);
    assert.deepEqual(o.relu(a).toArray(), [1, 0, 3, 4]);
    assertClose(o.exp(tensor([0, 1])).toArray(), [1, Math.E]);
    assertClose(o.log(tensor([1, Math.E])).toArray(), [0, 1]);
    assertClose(o.sqrt(tensor([4, 9])).toArray(), [2, 3]);
    assertClose(o.tanh(tensor([0.5])).toArray(), [Math.tanh(0.5)]);
    assertClose(o.sigmoid(tensor([0])).toArray(), [0.5]);
    assertClose(o.silu(tensor([1])).toArray(), [1 / (1 + Math.exp(-1))]);
    assertClose(o.gelu(tensor([1])).toArray(), [0.8413447460685429]);
    assertClose(o.glu(tensor([[2, 0]]), 1).toArray(), [1]);
    assertClose(o.softmax(tensor([[0, Math.log(3)]]), 1).toArray(), [0.25, 0.75]);
    assertClose(o.logSoftmax(tensor([[0, Math.log(3)]]), 1).toArray(), [Math.log(0.25), Math.log(0.75)]);
    assert.deepEqual(o.matmul(a, a).toArray(), [-5, -10, 15, 10]);
    assert.deepEqual(o.linear(a, a, tensor([1, 1])).toArray(), [6, -4, -4, 26]);
    assert.deepEqual(o.argmax(a, 1).toArray(), [0, 1]);
    assert.deepEqual(o.max(a, 0).toArray(), [3, 4]);
    assert.deepEqual(o.sum(a, 1).toArray(), [-1, 7]);
    assert.deepEqual(o.where(tensor([true, false]), a, 0).toArray(), [1, 0, 3, 0]);
    assert.deepEqual(o.maskedFill(a, tensor([[false], [true]]), -9).toArray(), [1, -2, -9, -9]);
    assert.deepEqual(o.cat([a, a], 1).shape, [2, 4]);
    assert.deepEqual(o.unsqueeze(a, 0).shape, [1, 2, 2]);
  }));

test("eager: layerNorm, conv1d, batchNorm by prefix, dropout by training flag", () =>
  tidy(() => {
    const params = new Map<string, Tensor>([
      ["bn.weight", tensor([2])],
      ["bn.bias", tensor([1])],
      ["bn.running_mean", tensor([0])],
      ["bn.running_var", tensor([1])],
    ]);
    const x = tensor([[[1, 3]], [[5, 7]]]);
    const train = ops(true, params);
    const y = train.batchNorm(x, "bn", 0, 0.5);
    const sd = Math.sqrt(5);
    assertClose(y.toArray(), [(-3 / sd) * 2 + 1, (-1 / sd) * 2 + 1, (1 / sd) * 2 + 1, (3 / sd) * 2 + 1]);
    assertClose(params.get("bn.running_mean")!.toArray(), [2]);
    assertClose(params.get("bn.running_var")!.toArray(), [0.5 + 0.5 * (20 / 3)], 1e-6);
    const evalOut = ops(false, params).batchNorm(tensor([[[2]]]), "bn", 0, 0.5);
    assertClose(evalOut.toArray(), [1]);
    assert.deepEqual(params.get("bn.running_mean")!.toArray(), [2], "eval leaves running stats alone");

    const ln = ops().layerNorm(tensor([[1, 3]]), tensor([1, 1]), tensor([0, 0]), 0);
    assertClose(ln.toArray(), [-1, 1]);
    const conv = ops().conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, 1]]]), tensor([0.5]), { stride: 2, padding: 0 });
    assert.deepEqual(conv.toArray(), [3.5, 7.5]);
    const depth = ops().conv1d(tensor([[[1, 2], [3, 4]]]), tensor([[[1]], [[-1]]]), undefined, { stride: 1, padding: 0, groups: 2 });
    assert.deepEqual(depth.toArray(), [1, 2, -3, -4]);

    manualSeed(1);
    const big = ones([2000]);
    assert.deepEqual(ops(false).dropout(big, 0.5).toArray(), big.toArray());
    const dropped = ops(true).dropout(big, 0.5).toArray();
    assert.ok(dropped.some((v) => v === 0) && dropped.some((v) => v === 2));
  }));

test("eager: gather follows ONNX Gather shapes and negative indices", () =>
  tidy(() => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const g = ops().gather(x, i64([2, 0, -1, 1], [2, 2]), 0);
    assert.deepEqual(g.shape, [2, 2, 2]);
    assert.deepEqual(g.toArray(), [5, 6, 1, 2, 5, 6, 3, 4]);
    const g1 = ops().gather(x, i64([1]), 1);
    assert.deepEqual(g1.shape, [3, 1]);
    assert.deepEqual(g1.toArray(), [2, 4, 6]);
  }));

test("eager: paddingMask marks positions at or beyond each length", () =>
  tidy(() => {
    const m = ops().paddingMask(i64([1, 3, 0]), zeros([3, 3, 5]), 1);
    assert.equal(m.dtype, "bool");
    assert.deepEqual(m.shape, [3, 3]);
    assert.deepEqual(m.toArray(), [0, 1, 1, 0, 0, 0, 1, 1, 1]);
  }));

test("eager: convLength = floor((L + 2p - k) / s) + 1", () =>
  tidy(() => {
    const out = ops().convLength(i64([10, 7, 1, 100]), 3, 2, 1);
    assert.equal(out.dtype, "int64");
    assert.deepEqual(out.toArray(), [5, 4, 1, 50]);
    assert.deepEqual(ops().convLength(i64([10, 7]), 5, 3, 0).toArray(), [2, 1]);
  }));

test("eager: relPositions is ESPnet's RelPositionalEncoding table", () =>
  tidy(() => {
    // T = 2, d = 4: ω = [1, 10000^(-2/4) = 0.01]; rows are offsets 1, 0, -1
    const pe = ops().relPositions(zeros([1, 2, 4]), 1, 4);
    assert.deepEqual(pe.shape, [1, 3, 4]);
    const row = (p: number) => [Math.sin(p), Math.cos(p), Math.sin(p * 0.01), Math.cos(p * 0.01)];
    assertClose(pe.toArray(), [...row(1), ...row(0), ...row(-1)], 1e-6);
    // T = 3 along axis 0 of (3, 5), d = 6: ω_i = 10000^(-2i/6)
    const pe3 = ops().relPositions(zeros([3, 5]), 0, 6).toArray();
    const w = [0, 1, 2].map((i) => Math.pow(10000, (-2 * i) / 6));
    const expected = [2, 1, 0, -1, -2].flatMap((p) => w.flatMap((f) => [Math.sin(p * f), Math.cos(p * f)]));
    assertClose(pe3, expected, 1e-6);
  }));

test("eager: relShift gives out[b,h,i,j] = x[b,h,i,T-1-i+j]", () =>
  tidy(() => {
    const B = 2;
    const H = 2;
    const T = 3;
    const P = 2 * T - 1;
    const x = arange(0, B * H * T * P, 1, { dtype: "float32" }).reshape([B, H, T, P]);
    const out = ops().relShift(x);
    assert.deepEqual(out.shape, [B, H, T, T]);
    const got = out.toArray();
    const expected: number[] = [];
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) expected.push(((b * H + h) * T + i) * P + (T - 1 - i + j));
    assert.deepEqual(got, expected);
  }));
