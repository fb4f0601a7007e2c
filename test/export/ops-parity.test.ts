// Per-op parity: every op of src/model/ops.ts run by EagerOps (libtorch) and by OnnxOps (onnxruntime)
// on the same random inputs and parameters, max |Δ| <= 1e-5 (exact for integer and boolean results).
// One generic builder per case, written against Ops<T>, drives both engines.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { Tensor, noGrad, tidy } from "../../src/torch/index.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import type { Ops } from "../../src/model/ops.ts";
import { GraphBuilder, type Value } from "../../src/export/graph.ts";
import { OnnxOps } from "../../src/export/onnx-ops.ts";
import { modelProto, type DType } from "../../src/formats/onnx-proto.ts";
import type { StoredTensor } from "../../src/export/checkpoint.ts";
import { Rng } from "../../src/util/rng.ts";

interface Input {
  dtype: "float32" | "int64" | "bool";
  shape: number[];
  values: number[];
}

interface Case {
  name: string;
  inputs: Record<string, Input>;
  params?: Record<string, number[]>;
  build: <T>(ops: Ops<T>, x: Record<string, T>) => T;
}

const rng = new Rng(11);
const randn = (shape: number[], scale = 1): Input => ({ dtype: "float32", shape, values: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale) });
const ints = (shape: number[], values: number[]): Input => ({ dtype: "int64", shape, values });
const bools = (shape: number[]): Input => ({ dtype: "bool", shape, values: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.uniform() < 0.4 ? 1 : 0)) });
const paramShape = (name: string, shape: number[], positive = false): [string, number[]] => [name, [shape.length, ...shape, ...Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (positive ? 0.5 + rng.uniform() : rng.normal()))]];

/** Params are stored as [rank, ...shape, ...values] to keep the case table compact. */
function unpack(p: number[]): { shape: number[]; values: number[] } {
  const rank = p[0]!;
  return { shape: p.slice(1, 1 + rank), values: p.slice(1 + rank) };
}

const cases: Case[] = [
  { name: "add/sub/mul/div (broadcast, numbers)", inputs: { a: randn([2, 3, 4]), b: randn([4]) }, build: (o, x) => o.div(o.sub(o.mul(o.add(x.a!, x.b!), 1.5), x.b!), o.add(o.mul(x.b!, x.b!), 1)) },
  { name: "exp/log/sqrt", inputs: { a: randn([3, 5]) }, build: (o, x) => o.add(o.exp(x.a!), o.log(o.sqrt(o.add(o.mul(x.a!, x.a!), 0.1)))) },
  { name: "tanh/sigmoid/relu", inputs: { a: randn([3, 5], 3) }, build: (o, x) => o.add(o.tanh(x.a!), o.mul(o.sigmoid(x.a!), o.relu(x.a!))) },
  { name: "silu", inputs: { a: randn([4, 6], 3) }, build: (o, x) => o.silu(x.a!) },
  { name: "gelu", inputs: { a: randn([4, 6], 3) }, build: (o, x) => o.gelu(x.a!) },
  { name: "glu", inputs: { a: randn([2, 8, 5]) }, build: (o, x) => o.glu(x.a!, 1) },
  { name: "softmax", inputs: { a: randn([2, 3, 7], 4) }, build: (o, x) => o.softmax(x.a!, -1) },
  { name: "logSoftmax", inputs: { a: randn([2, 3, 7], 4) }, build: (o, x) => o.logSoftmax(x.a!, 2) },
  { name: "matmul", inputs: { a: randn([2, 3, 5, 4]), b: randn([2, 3, 4, 6]) }, build: (o, x) => o.matmul(x.a!, x.b!) },
  { name: "matmul of a weight over flattened positions, reshaped back (LiSA's head alignment)", inputs: { a: randn([2, 4, 3, 3]) }, params: Object.fromEntries([paramShape("w", [4, 4])]), build: (o, x) => o.reshapeLike(o.matmul(o.param("w"), o.reshape(x.a!, [0, 4, -1])), x.a!) },
  { name: "linear", inputs: { a: randn([2, 5, 8]) }, params: Object.fromEntries([paramShape("w", [6, 8]), paramShape("b", [6])]), build: (o, x) => o.linear(x.a!, o.param("w"), o.param("b")) },
  { name: "layerNorm", inputs: { a: randn([2, 5, 8], 3) }, params: Object.fromEntries([paramShape("g", [8]), paramShape("b", [8])]), build: (o, x) => o.layerNorm(x.a!, o.param("g"), o.param("b"), 1e-5) },
  { name: "conv1d (stride 2, pad 2)", inputs: { a: randn([2, 4, 11]) }, params: Object.fromEntries([paramShape("w", [6, 4, 5]), paramShape("b", [6])]), build: (o, x) => o.conv1d(x.a!, o.param("w"), o.param("b"), { stride: 2, padding: 2 }) },
  { name: "conv1d depthwise", inputs: { a: randn([2, 4, 11]) }, params: Object.fromEntries([paramShape("w", [4, 1, 3])]), build: (o, x) => o.conv1d(x.a!, o.param("w"), undefined, { stride: 1, padding: 1, groups: 4 }) },
  {
    name: "batchNorm (eval)",
    inputs: { a: randn([2, 3, 6]) },
    params: Object.fromEntries([paramShape("bn.weight", [3]), paramShape("bn.bias", [3]), paramShape("bn.running_mean", [3]), paramShape("bn.running_var", [3], true)]),
    build: (o, x) => o.batchNorm(x.a!, "bn", 1e-5, 0.1),
  },
  { name: "dropout (eval)", inputs: { a: randn([3, 4]) }, build: (o, x) => o.dropout(x.a!, 0.5) },
  { name: "reshape/transpose/unsqueeze", inputs: { a: randn([2, 3, 4]) }, build: (o, x) => o.unsqueeze(o.transpose(o.reshape(x.a!, [0, -1, 2]), [2, 0, 1]), 1) },
  { name: "cat", inputs: { a: randn([2, 3, 4]), b: randn([2, 1, 4]) }, build: (o, x) => o.cat([x.a!, x.b!, x.a!], 1) },
  { name: "slice (negative, past the end)", inputs: { a: randn([2, 6, 3]) }, build: (o, x) => o.cat([o.slice(x.a!, 1, -4, 100), o.slice(x.a!, 1, 1, 3)], 1) },
  { name: "where", inputs: { a: randn([2, 5]), b: randn([2, 5]), m: bools([2, 5]) }, build: (o, x) => o.add(o.where(x.m!, x.a!, x.b!), o.where(x.m!, x.b!, -2)) },
  { name: "maskedFill", inputs: { a: randn([2, 5]), m: bools([1, 5]) }, build: (o, x) => o.maskedFill(x.a!, x.m!, -1e9) },
  { name: "argmax", inputs: { a: randn([3, 4, 9]) }, build: (o, x) => o.argmax(x.a!, -1) },
  { name: "max", inputs: { a: randn([3, 4, 9]) }, build: (o, x) => o.max(x.a!, 1) },
  { name: "sum", inputs: { a: randn([3, 4, 9]) }, build: (o, x) => o.sum(x.a!, 2) },
  { name: "gather", inputs: { a: randn([7, 5]), i: ints([2, 3], [6, 0, 2, 2, 5, 1]) }, build: (o, x) => o.gather(x.a!, x.i!, 0) },
  { name: "paddingMask", inputs: { a: randn([3, 6, 2]), l: ints([3], [6, 2, 4]) }, build: (o, x) => o.paddingMask(x.l!, x.a!, 1) },
  { name: "convLength", inputs: { l: ints([4], [1, 2, 17, 300]) }, build: (o, x) => o.convLength(o.convLength(x.l!, 5, 2, 2), 3, 2, 1) },
  { name: "relPositions", inputs: { a: randn([2, 37, 16]) }, build: (o, x) => o.relPositions(x.a!, 1, 16) },
  { name: "relShift", inputs: { a: randn([2, 3, 6, 11]) }, build: (o, x) => o.relShift(x.a!) },
];

function eagerRun(c: Case): { values: number[]; shape: number[] } {
  return noGrad(() =>
    tidy(() => {
      const params = new Map<string, Tensor>();
      for (const [name, p] of Object.entries(c.params ?? {})) {
        const { shape, values } = unpack(p);
        params.set(name, Tensor.fromTypedArray(Float32Array.from(values), shape, "float32"));
      }
      const x: Record<string, Tensor> = {};
      for (const [name, i] of Object.entries(c.inputs)) {
        x[name] =
          i.dtype === "float32"
            ? Tensor.fromTypedArray(Float32Array.from(i.values), i.shape, "float32")
            : i.dtype === "int64"
              ? Tensor.fromTypedArray(BigInt64Array.from(i.values, BigInt), i.shape, "int64")
              : Tensor.fromTypedArray(Uint8Array.from(i.values), i.shape, "bool");
      }
      const y = c.build(new EagerOps(params, false), x);
      return { values: Array.from(y.data() as ArrayLike<number | bigint | boolean>, Number), shape: y.shape };
    }),
  );
}

async function onnxRun(c: Case): Promise<{ values: number[]; shape: number[] }> {
  const state = new Map<string, StoredTensor>();
  for (const [name, p] of Object.entries(c.params ?? {})) {
    const { shape, values } = unpack(p);
    state.set(name, { dtype: "float32", shape, data: new Uint8Array(Float32Array.from(values).buffer) });
  }
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state);
  const x: Record<string, Value> = {};
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, i] of Object.entries(c.inputs)) {
    // Every axis symbolic, so that nothing relies on a static size.
    x[name] = g.input(name, i.dtype as DType, i.shape.map((_, k) => `${name}_d${k}`));
    feeds[name] =
      i.dtype === "float32"
        ? new ort.Tensor("float32", Float32Array.from(i.values), i.shape)
        : i.dtype === "int64"
          ? new ort.Tensor("int64", BigInt64Array.from(i.values, BigInt), i.shape)
          : new ort.Tensor("bool", Uint8Array.from(i.values), i.shape);
  }
  g.output(c.build(ops, x), "y");
  const session = await ort.InferenceSession.create(Buffer.concat(modelProto(g.model({ graphName: "op", metadata: {}, producerVersion: "t" }))));
  const y = (await session.run(feeds)).y!;
  await session.release();
  return { values: Array.from(y.data as ArrayLike<number | bigint | boolean>, Number), shape: [...y.dims] };
}

for (const c of cases) {
  test(`op parity eager vs ONNX: ${c.name}`, async () => {
    const e = eagerRun(c);
    const o = await onnxRun(c);
    assert.deepEqual(o.shape, e.shape, "shape");
    let worst = 0;
    e.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - o.values[i]!))));
    assert.ok(worst <= 1e-5, `max |Δ| ${worst} > 1e-5`);
    process.stdout.write(`# op parity ${c.name}: max |Δ| ${worst.toExponential(1)}\n`);
  });
}
