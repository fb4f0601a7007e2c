// Each op of OnnxOps, executed by onnxruntime-node, against values computed by hand (plain JS loops
// over the definitions in src/model/ops.ts). Inputs use symbolic B/T axes where the op is about them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { GraphBuilder } from "../../src/export/graph.ts";
import { OnnxOps } from "../../src/export/onnx-ops.ts";
import { modelProto } from "../../src/formats/onnx-proto.ts";
import { runOps, assertClose, floatTensor, type Feed } from "./helpers.ts";

const f32 = (dims: number[], data: number[], symbolic?: (string | number)[]): Feed => ({ dtype: "float32", dims, data, symbolic });
const i64 = (dims: number[], data: number[], symbolic?: (string | number)[]): Feed => ({ dtype: "int64", dims, data, symbolic });

function seq(n: number, scale = 0.37, shift = -1.1): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + 0.2) * 2 * scale + shift * 0.1 + (i % 3) * 0.05);
}

test("elementwise arithmetic broadcasts like numpy and accepts numbers", async () => {
  const a = seq(6);
  const b = [0.5, -2, 4];
  const [[add, sub, mul, div, addN, mulN]] = await runOps({ a: f32([2, 3], a), b: f32([3], b) }, (ops, x) => [
    ops.add(x.a!, x.b!),
    ops.sub(x.a!, x.b!),
    ops.mul(x.a!, x.b!),
    ops.div(x.a!, x.b!),
    ops.add(x.a!, 1.5),
    ops.mul(x.a!, -3),
  ]);
  assert.deepEqual(add!.dims, [2, 3]);
  assertClose(add!.data, a.map((v, i) => v + b[i % 3]!), 1e-6, "add");
  assertClose(sub!.data, a.map((v, i) => v - b[i % 3]!), 1e-6, "sub");
  assertClose(mul!.data, a.map((v, i) => v * b[i % 3]!), 1e-6, "mul");
  assertClose(div!.data, a.map((v, i) => v / b[i % 3]!), 1e-6, "div");
  assertClose(addN!.data, a.map((v) => v + 1.5), 1e-6, "add number");
  assertClose(mulN!.data, a.map((v) => v * -3), 1e-6, "mul number");
});

test("integer arithmetic stays int64", async () => {
  const [[r]] = await runOps({ l: i64([3], [7, 10, 1]) }, (ops, x) => ops.sub(ops.mul(x.l!, 2), 1));
  assert.deepEqual(r!.data, [13, 19, 1]);
});

test("unary activations match their definitions", async () => {
  const x = [-3, -1, -0.5, 0, 0.5, 1, 2, 3.5];
  const [[exp, log, sqrt, tanh, sigmoid, relu, silu, gelu]] = await runOps({ x: f32([8], x) }, (ops, v) => [
    ops.exp(v.x!),
    ops.log(ops.add(ops.mul(v.x!, v.x!), 1)),
    ops.sqrt(ops.add(ops.mul(v.x!, v.x!), 1)),
    ops.tanh(v.x!),
    ops.sigmoid(v.x!),
    ops.relu(v.x!),
    ops.silu(v.x!),
    ops.gelu(v.x!),
  ]);
  const sig = (z: number): number => 1 / (1 + Math.exp(-z));
  assertClose(exp!.data, x.map(Math.exp), 1e-5, "exp");
  assertClose(log!.data, x.map((z) => Math.log(z * z + 1)), 1e-6, "log");
  assertClose(sqrt!.data, x.map((z) => Math.sqrt(z * z + 1)), 1e-6, "sqrt");
  assertClose(tanh!.data, x.map(Math.tanh), 1e-6, "tanh");
  assertClose(sigmoid!.data, x.map(sig), 1e-6, "sigmoid");
  assertClose(relu!.data, x.map((z) => Math.max(0, z)), 0, "relu");
  assertClose(silu!.data, x.map((z) => z * sig(z)), 1e-6, "silu");
  // Exact GELU values x·Φ(x) (Φ = standard normal CDF, tabulated to 16 digits).
  const phi: Record<number, number> = {
    [-3]: 0.0013498980316301, [-1]: 0.15865525393145707, [-0.5]: 0.3085375387259869, 0: 0.5,
    0.5: 0.6914624612740131, 1: 0.8413447460685429, 2: 0.9772498680518208, 3.5: 0.9997673709209645,
  };
  assertClose(gelu!.data, x.map((z) => z * phi[z]!), 1e-6, "gelu");
});

test("glu, softmax and logSoftmax along an axis", async () => {
  const x = seq(12, 1.5);
  const [[glu, sm, lsm]] = await runOps({ x: f32([2, 6], x) }, (ops, v) => [ops.glu(v.x!, 1), ops.softmax(v.x!, -1), ops.logSoftmax(v.x!, 1)]);
  const g: number[] = [];
  const s: number[] = [];
  const ls: number[] = [];
  for (let r = 0; r < 2; r++) {
    const row = x.slice(r * 6, r * 6 + 6);
    for (let j = 0; j < 3; j++) g.push(row[j]! / (1 + Math.exp(-row[j + 3]!)));
    const m = Math.max(...row);
    const z = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    for (const v of row) {
      s.push(Math.exp(v - m) / z);
      ls.push(v - m - Math.log(z));
    }
  }
  assert.deepEqual(glu!.dims, [2, 3]);
  assertClose(glu!.data, g, 1e-6, "glu");
  assertClose(sm!.data, s, 1e-6, "softmax");
  assertClose(lsm!.data, ls, 1e-6, "logSoftmax");
});

test("matmul broadcasts over leading axes; linear uses the torch (out, in) layout", async () => {
  const a = seq(2 * 3 * 4);
  const b = seq(4 * 5, 0.8, 0.3);
  const w = seq(5 * 4, 0.6, 0.2);
  const bias = [0.1, -0.2, 0.3, 0.0, 1.0];
  const state = new Map([["fc.weight", floatTensor([5, 4], w)], ["fc.bias", floatTensor([5], bias)]]);
  const [[mm, lin]] = await runOps(
    { a: f32([2, 3, 4], a, ["B", "T", 4]), b: f32([4, 5], b) },
    (ops, v) => [ops.matmul(v.a!, v.b!), ops.linear(v.a!, ops.param("fc.weight"), ops.param("fc.bias"))],
    state,
  );
  const want: number[] = [];
  const wantLin: number[] = [];
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 5; c++) {
      let s = 0;
      let l = bias[c]!;
      for (let k = 0; k < 4; k++) {
        s += a[r * 4 + k]! * b[k * 5 + c]!;
        l += a[r * 4 + k]! * w[c * 4 + k]!;
      }
      want.push(s);
      wantLin.push(l);
    }
  }
  assert.deepEqual(mm!.dims, [2, 3, 5]);
  assertClose(mm!.data, want, 1e-5, "matmul");
  assertClose(lin!.data, wantLin, 1e-5, "linear");
});

test("layerNorm normalizes the last axis", async () => {
  const x = seq(2 * 5, 2);
  const w = [1, 0.5, -1, 2, 0.1];
  const b = [0, 0.1, 0.2, -0.3, 1];
  const state = new Map([["ln.weight", floatTensor([5], w)], ["ln.bias", floatTensor([5], b)]]);
  const [[y]] = await runOps({ x: f32([2, 5], x) }, (ops, v) => ops.layerNorm(v.x!, ops.param("ln.weight"), ops.param("ln.bias"), 1e-5), state);
  const want: number[] = [];
  for (let r = 0; r < 2; r++) {
    const row = x.slice(r * 5, r * 5 + 5);
    const m = row.reduce((a, c) => a + c, 0) / 5;
    const v = row.reduce((a, c) => a + (c - m) ** 2, 0) / 5;
    row.forEach((c, j) => want.push(((c - m) / Math.sqrt(v + 1e-5)) * w[j]! + b[j]!));
  }
  assertClose(y!.data, want, 1e-5, "layerNorm");
});

/** Reference 1-D convolution (cross-correlation, zero padding, groups). */
function conv1dRef(x: number[], [B, Cin, T]: number[], w: number[], [Cout, , K]: number[], bias: number[] | undefined, stride: number, pad: number, groups: number): { data: number[]; tOut: number } {
  const tOut = Math.floor((T! + 2 * pad - K!) / stride) + 1;
  const cinG = Cin! / groups;
  const coutG = Cout! / groups;
  const out: number[] = [];
  for (let b = 0; b < B!; b++)
    for (let o = 0; o < Cout!; o++)
      for (let t = 0; t < tOut; t++) {
        const grp = Math.floor(o / coutG);
        let s = bias ? bias[o]! : 0;
        for (let c = 0; c < cinG; c++)
          for (let k = 0; k < K!; k++) {
            const pos = t * stride - pad + k;
            if (pos < 0 || pos >= T!) continue;
            s += x[(b * Cin! + grp * cinG + c) * T! + pos]! * w[(o * cinG + c) * K! + k]!;
          }
        out.push(s);
      }
  return { data: out, tOut };
}

test("conv1d: stride, padding, bias and depthwise groups", async () => {
  const x = seq(2 * 4 * 9);
  const w1 = seq(6 * 4 * 5, 0.5, 0.4);
  const b1 = [0.1, 0.2, -0.1, 0, 0.5, -0.5];
  const wd = seq(4 * 1 * 3, 0.9, -0.2);
  const state = new Map([["c.w", floatTensor([6, 4, 5], w1)], ["c.b", floatTensor([6], b1)], ["d.w", floatTensor([4, 1, 3], wd)]]);
  const [[y1, y2]] = await runOps(
    { x: f32([2, 4, 9], x, ["B", 4, "T"]) },
    (ops, v) => [
      ops.conv1d(v.x!, ops.param("c.w"), ops.param("c.b"), { stride: 2, padding: 2 }),
      ops.conv1d(v.x!, ops.param("d.w"), undefined, { stride: 1, padding: 1, groups: 4 }),
    ],
    state,
  );
  const r1 = conv1dRef(x, [2, 4, 9], w1, [6, 4, 5], b1, 2, 2, 1);
  const r2 = conv1dRef(x, [2, 4, 9], wd, [4, 1, 3], undefined, 1, 1, 4);
  assert.deepEqual(y1!.dims, [2, 6, r1.tOut]);
  assertClose(y1!.data, r1.data, 1e-5, "conv1d");
  assert.deepEqual(y2!.dims, [2, 4, 9]);
  assertClose(y2!.data, r2.data, 1e-5, "depthwise conv1d");
});

test("batchNorm in eval mode uses the running statistics", async () => {
  const x = seq(2 * 3 * 4, 1.2);
  const p = { weight: [1, 2, 0.5], bias: [0, -1, 0.3], running_mean: [0.1, -0.2, 0.5], running_var: [1, 0.25, 4] };
  const state = new Map(Object.entries(p).map(([k, v]) => [`bn.${k}`, floatTensor([3], v)]));
  const [[y]] = await runOps({ x: f32([2, 3, 4], x) }, (ops, v) => ops.batchNorm(v.x!, "bn", 1e-5, 0.1), state);
  const want = x.map((v, i) => {
    const c = Math.floor(i / 4) % 3;
    return ((v - p.running_mean[c]!) / Math.sqrt(p.running_var[c]! + 1e-5)) * p.weight[c]! + p.bias[c]!;
  });
  assertClose(y!.data, want, 1e-5, "batchNorm");
});

test("dropout is the identity at export (eval mode)", async () => {
  const x = seq(5).map(Math.fround);
  const [[y]] = await runOps({ x: f32([5], x) }, (ops, v) => ops.dropout(v.x!, 0.5));
  assertClose(y!.data, x, 0, "dropout");
});

test("reshape (0 copies, −1 infers), transpose, unsqueeze, cat, slice", async () => {
  const x = Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const [[rs, tr, us, ct, sl, slNeg, slBig]] = await runOps({ x: f32([2, 3, 4], x, ["B", "T", 4]) }, (ops, v) => [
    ops.reshape(v.x!, [0, -1, 2]),
    ops.transpose(v.x!, [2, 0, 1]),
    ops.unsqueeze(v.x!, 1),
    ops.cat([v.x!, v.x!], 2),
    ops.slice(v.x!, 1, 1, 3),
    ops.slice(v.x!, -1, -2, 4),
    ops.slice(v.x!, 1, 1, 1e9),
  ]);
  assert.deepEqual(rs!.dims, [2, 6, 2]);
  assert.deepEqual(rs!.data, x);
  assert.deepEqual(tr!.dims, [4, 2, 3]);
  const trWant: number[] = [];
  for (let k = 0; k < 4; k++) for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) trWant.push(x[(b * 3 + t) * 4 + k]!);
  assert.deepEqual(tr!.data, trWant);
  assert.deepEqual(us!.dims, [2, 1, 3, 4]);
  const ctWant: number[] = [];
  for (let r = 0; r < 6; r++) ctWant.push(...x.slice(r * 4, r * 4 + 4), ...x.slice(r * 4, r * 4 + 4));
  assert.deepEqual(ct!.dims, [2, 3, 8]);
  assert.deepEqual(ct!.data, ctWant);
  assert.deepEqual(sl!.dims, [2, 2, 4]);
  assert.deepEqual(sl!.data, [...x.slice(4, 12), ...x.slice(16, 24)]);
  assert.deepEqual(slNeg!.dims, [2, 3, 2]);
  assert.deepEqual(slNeg!.data, x.filter((_, i) => i % 4 >= 2));
  assert.deepEqual(slBig!.dims, [2, 2, 4]);
});

test("where, maskedFill, argmax and max", async () => {
  const x = [3, -1, 7, 2, 0, 5];
  const m = [1, 0, 0, 1, 1, 0];
  const [[wh, whN, mf, am, mx]] = await runOps({ x: f32([2, 3], x), m: { dtype: "bool", dims: [2, 3], data: m } }, (ops, v) => [
    ops.where(v.m!, v.x!, ops.mul(v.x!, 10)),
    ops.where(v.m!, v.x!, -4),
    ops.maskedFill(v.x!, v.m!, -1e4),
    ops.argmax(v.x!, 1),
    ops.max(v.x!, -1),
  ]);
  assert.deepEqual(wh!.data, [3, -10, 70, 2, 0, 50]);
  assert.deepEqual(whN!.data, [3, -4, -4, 2, 0, -4]);
  assert.deepEqual(mf!.data, [-1e4, -1, 7, -1e4, -1e4, 5]);
  assert.deepEqual(am!.dims, [2]);
  assert.deepEqual(am!.data, [2, 2]);
  assert.deepEqual(mx!.data, [7, 5]);
});

test("sum removes the axis; gather picks rows by int64 indices of any shape", async () => {
  const x = Array.from({ length: 3 * 4 }, (_, i) => i * 0.5);
  const [[s0, s1, g0, g1]] = await runOps({ x: f32([3, 4], x), idx: i64([2, 2], [2, 0, 1, 2]) }, (ops, v) => [
    ops.sum(v.x!, 0),
    ops.sum(v.x!, -1),
    ops.gather(v.x!, v.idx!, 0),
    ops.gather(v.x!, v.idx!, 1),
  ]);
  assert.deepEqual(s0!.data, [0, 1, 2, 3].map((c) => x[c]! + x[4 + c]! + x[8 + c]!));
  assert.deepEqual(s1!.data, [0, 1, 2].map((r) => x[r * 4]! + x[r * 4 + 1]! + x[r * 4 + 2]! + x[r * 4 + 3]!));
  assert.deepEqual(g0!.dims, [2, 2, 4]);
  assert.deepEqual(g0!.data, [2, 0, 1, 2].flatMap((r) => x.slice(r * 4, r * 4 + 4)));
  assert.deepEqual(g1!.dims, [3, 2, 2]);
  assert.deepEqual(g1!.data, [0, 1, 2].flatMap((r) => [2, 0, 1, 2].map((c) => x[r * 4 + c]!)));
});

test("paddingMask and convLength follow the symbolic time axis", async () => {
  const feeds = (b: number, t: number, lens: number[]): Record<string, Feed> => ({
    x: f32([b, t, 2], new Array(b * t * 2).fill(0), ["B", "T", 2]),
    l: i64([b], lens, ["B"]),
  });
  const runs = await runOps(
    feeds(2, 5, [5, 3]),
    (ops, v) => [ops.paddingMask(v.l!, v.x!, 1), ops.convLength(v.l!, 5, 2, 2), ops.convLength(ops.convLength(v.l!, 5, 2, 2), 5, 2, 2)],
    new Map(),
    [feeds(2, 5, [5, 3]), feeds(3, 7, [1, 7, 6])],
  );
  const [mask1, len1, len1b] = runs[0]!;
  assert.deepEqual(mask1!.dims, [2, 5]);
  assert.deepEqual(mask1!.data, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual(len1!.data, [3, 2]); // floor((L − 1)/2) + 1
  assert.deepEqual(len1b!.data, [2, 1]);
  const [mask2, len2] = runs[1]!;
  assert.deepEqual(mask2!.dims, [3, 7]);
  assert.deepEqual(mask2!.data, [0, 1, 1, 1, 1, 1, 1, ...new Array(7).fill(0), 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(len2!.data, [1, 4, 3]);
});

test("relPositions: sinusoids of offsets T−1 … −(T−1), sin on even and cos on odd channels", async () => {
  const d = 8;
  const runs = await runOps({ x: f32([1, 3, d], new Array(3 * d).fill(0), ["B", "T", d]) }, (ops, v) => ops.relPositions(v.x!, 1, d), new Map(), [
    { x: f32([1, 3, d], new Array(3 * d).fill(0)) },
    { x: f32([2, 6, d], new Array(2 * 6 * d).fill(0)) },
  ]);
  for (const [run, T] of [[runs[0]!, 3], [runs[1]!, 6]] as const) {
    const [pe] = run;
    assert.deepEqual(pe!.dims, [1, 2 * T - 1, d]);
    const want: number[] = [];
    for (let k = 0; k < 2 * T - 1; k++) {
      const offset = T - 1 - k;
      for (let i = 0; i < d / 2; i++) {
        const div = Math.exp((2 * i * -Math.log(10000)) / d);
        want.push(Math.sin(offset * div), Math.cos(offset * div));
      }
    }
    assertClose(pe!.data, want, 1e-6, `relPositions T=${T}`);
  }
});

test("relShift: out[b,h,i,j] = x[b,h,i,T−1−i+j] for several T", async () => {
  const make = (B: number, H: number, T: number): Feed => f32([B, H, T, 2 * T - 1], Array.from({ length: B * H * T * (2 * T - 1) }, (_, i) => i));
  const cases: [number, number, number][] = [[1, 1, 1], [2, 2, 3], [1, 3, 5]];
  const runs = await runOps({ x: { ...make(2, 2, 3), symbolic: ["B", "H", "T", "P"] } }, (ops, v) => ops.relShift(v.x!), new Map(), cases.map(([B, H, T]) => ({ x: make(B, H, T) })));
  cases.forEach(([B, H, T], c) => {
    const [y] = runs[c]!;
    assert.deepEqual(y!.dims, [B, H, T, T]);
    const P = 2 * T - 1;
    const want: number[] = [];
    for (let bh = 0; bh < B * H; bh++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) want.push(bh * T * P + i * P + (T - 1 - i + j));
    assert.deepEqual(y!.data, want);
  });
});

test("fp16 weights are cast back to float32 and round to half precision", async () => {
  const { GraphBuilder } = await import("../../src/export/graph.ts");
  const { OnnxOps } = await import("../../src/export/onnx-ops.ts");
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, new Map([["w", floatTensor([4], [1, 1 / 3, 65504, 1e-6])]]), { fp16Weights: true });
  const w = ops.param("w");
  assert.equal(w.dtype, "float32");
  assert.equal(ops.param("w"), w, "a parameter is added once");
  g.output(w, "out");
  const model = g.model({ graphName: "t", metadata: {}, producerVersion: "t" });
  assert.equal(model.initializers.length, 1);
  assert.equal(model.initializers[0]!.dtype, "float16");
  const half = new Uint16Array(model.initializers[0]!.raw.slice().buffer);
  assert.deepEqual(Array.from(half), [0x3c00, 0x3555, 0x7bff, 0x0011]);
});

test("GELU is exported as the pattern onnxruntime fuses into one Gelu kernel, within float32 rounding of the unfused form", async () => {
  const x = Array.from({ length: 20000 }, (_, i) => Math.sin(i * 0.731) * 6 + Math.cos(i * 0.013));
  const [[fused, unfused]] = await runOps({ x: f32([4, 5000], x) }, (ops, v) => [
    ops.gelu(v.x!),
    ops.mul(ops.mul(v.x!, 0.5), ops.add(ops.g.op("Erf", [ops.mul(v.x!, Math.SQRT1_2)], {}, "float32"), 1)),
  ]);
  // 1 + erf cancels in the negative tail, where an ulp of erf (6·10⁻⁸) times |x| is what the two may differ by.
  fused!.data.forEach((v, i) => assert.ok(Math.abs(v - unfused!.data[i]!) <= 6e-8 * Math.max(1, Math.abs(x[i]!)) + 1e-6 * Math.abs(v), `gelu(${x[i]}): ${v} fused, ${unfused!.data[i]} unfused`));

  const g = new GraphBuilder();
  const ops = new OnnxOps(g, new Map());
  g.output(ops.gelu(g.input("x", "float32", ["B", 8])), "y");
  const dir = mkdtempSync(join(tmpdir(), "nast-gelu-"));
  try {
    const optimized = join(dir, "optimized.onnx");
    const bytes = Buffer.concat(modelProto(g.model({ graphName: "gelu", metadata: {}, producerVersion: "test" })));
    await (await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", optimizedModelFilePath: optimized, logSeverityLevel: 3 })).release();
    const text = readFileSync(optimized).toString("latin1");
    assert.ok(text.includes("Gelu") && !text.includes("Erf"), "onnxruntime replaced Div, Erf, Add, Mul, Mul by its Gelu");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
