// Gradients of the differentiable operations against central finite differences, in float64.
import { test } from "node:test";
import {
  batchNorm,
  cat,
  conv1d,
  crossEntropy,
  embedding,
  layerNorm,
  linear,
  nllLoss,
  stack,
  tensor,
  where,
  type Tensor,
} from "../../src/torch/index.ts";
import { checkGradient, pseudoRandom } from "./helpers.ts";

const input = (shape: number[], seed: number, offset = 0) => ({
  shape,
  values: pseudoRandom(shape.reduce((a, b) => a * b, 1), seed).map((v) => v + offset),
});
const i64 = (values: number[], shape?: number[]) => tensor(values, { dtype: "int64", shape });

const unary: [string, (x: Tensor) => Tensor, number][] = [
  ["exp", (x) => x.exp(), 0],
  ["log", (x) => x.log(), 2],
  ["sqrt", (x) => x.sqrt(), 2],
  ["rsqrt", (x) => x.rsqrt(), 2],
  ["tanh", (x) => x.tanh(), 0],
  ["sigmoid", (x) => x.sigmoid(), 0],
  ["relu", (x) => x.relu(), 0],
  ["silu", (x) => x.silu(), 0],
  ["gelu", (x) => x.gelu(), 0],
  ["gelu tanh", (x) => x.gelu("tanh"), 0],
  ["abs", (x) => x.abs(), 0],
  ["square", (x) => x.square(), 0],
  ["pow 3", (x) => x.pow(3), 0],
  ["reciprocal", (x) => x.reciprocal(), 2],
  ["neg", (x) => x.neg(), 0],
  ["clamp", (x) => x.clamp(-0.5, 0.5), 0],
  ["softmax", (x) => x.softmax(1), 0],
  ["logSoftmax", (x) => x.logSoftmax(0), 0],
  ["glu", (x) => x.glu(1), 0],
  ["sum axis", (x) => x.sum(1), 0],
  ["mean", (x) => x.mean(), 0],
  ["max axis", (x) => x.max(1), 0],
  ["amax", (x) => x.amax(0), 0],
  ["logsumexp", (x) => x.logsumexp(1), 0],
  ["cumsum", (x) => x.cumsum(1), 0],
  ["norm", (x) => x.norm(), 0],
  ["reshape+permute", (x) => x.reshape([2, 2, 3]).permute([2, 0, 1]), 0],
  ["transpose+contiguous", (x) => x.transpose(0, 1).contiguous(), 0],
  ["slice", (x) => x.slice(1, 1, 3), 0],
  ["split", (x) => x.split([1, 3], 1)[1]!, 0],
  ["chunk", (x) => x.chunk(2, 1)[0]!, 0],
  ["pad", (x) => x.pad([1, 2], 3), 0],
  ["expand", (x) => x.unsqueeze(0).expand([3, -1, -1]), 0],
  ["flip", (x) => x.flip([1]), 0],
];

for (const [name, f, offset] of unary) {
  test(`gradient: ${name}`, () => checkGradient(([x]) => f(x!), [input([3, 4], name.length, offset)]));
}

test("gradient: broadcasting add, sub, mul, div, maximum", () => {
  checkGradient(([a, b]) => a!.add(b!, 0.5), [input([2, 3], 1), input([3], 2)]);
  checkGradient(([a, b]) => a!.sub(b!), [input([2, 3], 3), input([2, 1], 4)]);
  checkGradient(([a, b]) => a!.mul(b!), [input([2, 3], 5), input([3], 6)]);
  checkGradient(([a, b]) => a!.div(b!), [input([2, 3], 7), input([3], 8, 3)]);
  checkGradient(([a, b]) => a!.maximum(b!), [input([2, 3], 9), input([2, 3], 10)]);
  checkGradient(([a, b]) => a!.pow(b!), [input([4], 11, 2), input([4], 12)]);
});

test("gradient: matmul, bmm, linear", () => {
  checkGradient(([a, b]) => a!.matmul(b!), [input([2, 3, 4], 1), input([4, 2], 2)]);
  checkGradient(([a, b]) => a!.bmm(b!), [input([2, 2, 3], 3), input([2, 3, 2], 4)]);
  checkGradient(([x, w, b]) => linear(x!, w!, b!), [input([2, 3, 4], 5), input([5, 4], 6), input([5], 7)]);
});

test("gradient: conv1d (plain, strided, depthwise)", () => {
  checkGradient(([x, w, b]) => conv1d(x!, w!, b!, { padding: 1 }), [input([2, 3, 6], 1), input([4, 3, 3], 2), input([4], 3)]);
  checkGradient(([x, w]) => conv1d(x!, w!, undefined, { stride: 2, padding: 2 }), [input([1, 2, 7], 4), input([2, 2, 5], 5)]);
  checkGradient(([x, w]) => conv1d(x!, w!, undefined, { groups: 3, padding: 1 }), [input([2, 3, 5], 6), input([3, 1, 3], 7)]);
});

test("gradient: layer_norm and batch_norm (training)", () => {
  checkGradient(([x, w, b]) => layerNorm(x!, w!, b!, 1e-5), [input([2, 3, 5], 1), input([5], 2, 1), input([5], 3)]);
  checkGradient(([x, w, b]) => batchNorm(x!, undefined, undefined, w!, b!, true, 0.1, 1e-5), [
    input([3, 2, 4], 4),
    input([2], 5, 1),
    input([2], 6),
  ]);
});

test("gradient: embedding, index_select, gather, scatter, masked_fill, where", () => {
  checkGradient(([w]) => embedding(w!, i64([2, 0, 2, 1], [2, 2])), [input([3, 4], 1)]);
  checkGradient(([x]) => x!.indexSelect(0, i64([2, 0, 2])), [input([3, 2], 2)]);
  checkGradient(([x]) => x!.gather(1, i64([0, 2, 1, 1], [2, 2])), [input([2, 3], 3)]);
  checkGradient(([x, s]) => x!.scatter(1, i64([2, 0], [2, 1]), s!), [input([2, 3], 4), input([2, 1], 5)]);
  const mask = tensor([true, false, true]);
  checkGradient(([x]) => x!.maskedFill(mask, 0), [input([2, 3], 6)]);
  checkGradient(([a, b]) => where(mask, a!, b!), [input([2, 3], 7), input([3], 8)]);
  mask.dispose();
});

test("gradient: cat and stack", () => {
  checkGradient(([a, b]) => cat([a!, b!], 1), [input([2, 2], 1), input([2, 3], 2)]);
  checkGradient(([a, b]) => stack([a!, b!], 0), [input([2, 3], 3), input([2, 3], 4)]);
});

test("gradient: cross_entropy and nll_loss", () => {
  const target = i64([2, 0, 1]);
  checkGradient(([x]) => crossEntropy(x!, target, { labelSmoothing: 0.1 }), [input([3, 4], 1)]);
  checkGradient(([x]) => nllLoss(x!.logSoftmax(1), target, { reduction: "sum" }), [input([3, 4], 2)]);
  target.dispose();
});
