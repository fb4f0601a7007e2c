// int8 export (src/export/int8.ts): the per-channel quantization by hand, the integer product in
// onnxruntime against the float one, and `nast export --int8` end to end (smaller, close log-probabilities,
// the float copies of quantized weights gone from the file).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../../src/export/graph.ts";
import { OnnxOps } from "../../src/export/onnx-ops.ts";
import { modelProto } from "../../src/formats/onnx-proto.ts";
import { dequantizeColumns, quantizeColumns, INT8_MIN_DIM, type Int8Scope } from "../../src/export/int8.ts";
import { readOnnxWeights } from "../../src/export/onnx-weights.ts";
import { readCheckpoint } from "../../src/export/checkpoint.ts";
import { loadConfig, withVocabSize } from "../../src/model/config.ts";
import { readOnnxInfo } from "../../src/formats/onnx-info.ts";
import { Rng } from "../../src/util/rng.ts";
import { exportFixture, floatTensor, logProbs } from "./helpers.ts";
import { runNast as nast } from "../helpers/cli.ts";

test("quantizeColumns: symmetric int8 per output channel, stored transposed; an all-zero channel keeps scale 1", () => {
  // W is (out 2 × in 3): channel 0 = [1, −2, 0.5] has scale 2/127; channel 1 is all zeros.
  const { q, scale } = quantizeColumns(Float32Array.from([1, -2, 0.5, 0, 0, 0]), 2, 3);
  assert.deepEqual(Array.from(scale), [Math.fround(2 / 127), 1]);
  // Wᵀ (in 3 × out 2): round(1·63.5) = 64, round(−2·63.5) = −127, round(0.5·63.5) = 32.
  assert.deepEqual(Array.from(q), [64, 0, -127, 0, 32, 0]);
  const rng = new Rng(5);
  const w = Float32Array.from({ length: 7 * 11 }, () => rng.normal() * 0.2);
  const r = quantizeColumns(w, 7, 11);
  for (let j = 0; j < 7; j++) {
    for (let i = 0; i < 11; i++) {
      assert.ok(Math.abs(w[j * 11 + i]! - r.scale[j]! * r.q[i * 7 + j]!) <= r.scale[j]! / 2 + 1e-7, `W[${j},${i}] within half a step`);
    }
  }
  assert.throws(() => quantizeColumns(new Float32Array(5), 2, 3), /5 values do not make a 2×3 weight/);
  const back = dequantizeColumns(r, 7, 11);
  for (let j = 0; j < 7; j++) for (let i = 0; i < 11; i++) assert.equal(back[j * 11 + i], Math.fround(r.scale[j]! * r.q[i * 7 + j]!));
});

test("an int8 linear layer in onnxruntime agrees with the float product; small weights stay float", async () => {
  const rng = new Rng(9);
  const [out, inp, small] = [96, 80, 8];
  const w = Array.from({ length: out * inp }, () => rng.normal() * 0.1);
  const b = Array.from({ length: out }, () => rng.normal() * 0.1);
  const v = Array.from({ length: small * inp }, () => rng.normal() * 0.1);
  const state = new Map([["w", floatTensor([out, inp], w)], ["b", floatTensor([out], b)], ["v", floatTensor([small, inp], v)]]);
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state, { int8: new Set(["linear"] as const) });
  const x = g.input("x", "float32", [2, 5, inp]);
  g.output(ops.linear(x, ops.param("w"), ops.param("b")), "y");
  g.output(ops.linear(x, ops.param("v")), "z");
  const def = g.model({ graphName: "t", metadata: {}, producerVersion: "t" });
  assert.deepEqual(def.initializers.map((t) => t.name).filter((n) => /^[wv]/.test(n)).sort(), ["v", "w.int8", "w.scale"], "w's float copy is pruned");
  assert.ok(def.nodes.some((n) => n.opType === "MatMulInteger") && def.nodes.some((n) => n.opType === "DynamicQuantizeLinear"));
  assert.ok(small < INT8_MIN_DIM);

  const xs = Float32Array.from({ length: 2 * 5 * inp }, () => rng.normal());
  const session = await ort.InferenceSession.create(Buffer.concat(modelProto(def)), { graphOptimizationLevel: "all" });
  const res = await session.run({ x: new ort.Tensor("float32", xs, [2, 5, inp]) });
  await session.release();
  const y = res.y!.data as Float32Array;
  const z = res.z!.data as Float32Array;
  let worstY = 0;
  let worstZ = 0;
  let norm = 0;
  for (let r = 0; r < 10; r++) {
    for (let j = 0; j < out; j++) {
      let acc = b[j]!;
      for (let i = 0; i < inp; i++) acc += xs[r * inp + i]! * w[j * inp + i]!;
      worstY = Math.max(worstY, Math.abs(acc - y[r * out + j]!));
      norm = Math.max(norm, Math.abs(acc));
    }
    for (let j = 0; j < small; j++) {
      let acc = 0;
      for (let i = 0; i < inp; i++) acc += xs[r * inp + i]! * v[j * inp + i]!;
      worstZ = Math.max(worstZ, Math.abs(acc - z[r * small + j]!));
    }
  }
  // uint8 activations over [min, max] of x (about ±4: a step of ~0.03) and int8 weights: a few % of |y|.
  assert.ok(worstY > 0 && worstY < 0.05 * norm, `int8: max |Δ| ${worstY} against max |y| ${norm}`);
  assert.ok(worstZ < 1e-5, `float: max |Δ| ${worstZ}`);
});

test("int8 embedding products and convolutions in onnxruntime agree with the float ones, at every output frame", async () => {
  const rng = new Rng(13);
  const [V, d, C, O, k] = [96, 72, 80, 128, 5];
  const table = Array.from({ length: V * d }, () => rng.normal() * 0.1);
  const w = Array.from({ length: O * C * k }, () => rng.normal() * 0.05);
  const b = Array.from({ length: O }, () => rng.normal() * 0.1);
  const state = new Map([["table", floatTensor([V, d], table)], ["conv.weight", floatTensor([O, C, k], w)], ["conv.bias", floatTensor([O], b)]]);
  const build = (int8: ReadonlySet<Int8Scope>): { def: ReturnType<GraphBuilder["model"]>; bytes: Buffer } => {
    const g = new GraphBuilder();
    const ops = new OnnxOps(g, state, { int8 });
    const p = g.input("p", "float32", [2, "T", V]);
    const x = g.input("x", "float32", [2, C, "T"]);
    g.output(ops.matmul(ops.softmax(p, 2), ops.param("table")), "e");
    g.output(ops.conv1d(x, ops.param("conv.weight"), ops.param("conv.bias"), { stride: 2, padding: 2 }), "y");
    const def = g.model({ graphName: "t", metadata: {}, producerVersion: "t" });
    return { def, bytes: Buffer.concat(modelProto(def)) };
  };
  const quantized = build(new Set(["embeddings", "conv"]));
  assert.deepEqual(quantized.def.initializers.map((t) => t.name).filter((n) => /^(table|conv)/.test(n)).sort(), ["conv.bias", "conv.weight.int8-taps", "conv.weight.scale", "table.int8-table", "table.scale"]);
  assert.ok(!quantized.def.nodes.some((n) => n.opType === "Conv"));
  const float = await ort.InferenceSession.create(build(new Set()).bytes);
  const int8 = await ort.InferenceSession.create(quantized.bytes, { graphOptimizationLevel: "all" });
  // Odd and even lengths: the unfolded windows give the convolution's ⌊(T + 2·2 − 5)/2⌋ + 1 frames.
  for (const T of [7, 8, 33]) {
    const feeds = {
      p: new ort.Tensor("float32", Float32Array.from({ length: 2 * T * V }, () => 3 * rng.normal()), [2, T, V]),
      x: new ort.Tensor("float32", Float32Array.from({ length: 2 * C * T }, () => rng.normal()), [2, C, T]),
    };
    const [want, got] = [await float.run(feeds), await int8.run(feeds)];
    for (const name of ["e", "y"]) {
      assert.deepEqual(got[name]!.dims, want[name]!.dims, `${name} at T = ${T}`);
      const [a, c] = [want[name]!.data as Float32Array, got[name]!.data as Float32Array];
      let worst = 0;
      let norm = 0;
      a.forEach((v, i) => ((worst = Math.max(worst, Math.abs(v - c[i]!))), (norm = Math.max(norm, Math.abs(v)))));
      // A tap out of place would be as large as the output itself; quantization moves it by a few %.
      assert.ok(worst > 0 && worst < 0.05 * norm, `${name} at T = ${T}: max |Δ| ${worst} against max ${norm}`);
    }
    assert.equal(want.y!.dims[2], Math.floor((T - 1) / 2) + 1);
  }
  await float.release();
  await int8.release();
});

const work = mkdtempSync(join(tmpdir(), "nast-int8-"));
const cfg = withVocabSize(loadConfig("tiny"), 64);
let spm = "";
let ckpt = "";
before(() => ({ spm, ckpt } = exportFixture(work, cfg, 4)));
after(() => rmSync(work, { recursive: true, force: true }));


test("nast export --int8 [--fp16]: a smaller package, labelled, with log-probabilities close to float32", async () => {
  const paths: Record<string, string> = {};
  for (const [name, flags] of [["f32", []], ["i8", ["--int8"]], ["i8h", ["--int8", "--fp16"]], ["i8l", ["--int8", "--int8-scope", "linear"]]] as const) {
    paths[name] = join(work, name);
    const r = nast(["export", ckpt, "-o", paths[name]!, "--spm", spm, ...flags]);
    assert.equal(r.code, 0, r.stderr);
  }
  const size = (n: string) => statSync(join(paths[n]!, "model.onnx")).size;
  assert.ok(size("i8") < 0.7 * size("f32") && size("i8h") < size("i8"), `${size("f32")} / ${size("i8")} / ${size("i8h")} bytes`);
  const info = readOnnxInfo(readFileSync(join(paths.i8h!, "model.onnx")));
  assert.equal(info.metadata["nast.weights"], "int8+float16");
  assert.equal(info.metadata["nast.int8"], "linear,embeddings,conv");
  assert.match(readFileSync(join(paths.i8h!, "MODEL_CARD.md"), "utf8"), /int8 for the linear layers, the PAE and adapter embedding products and the subsampler's convolutions \(dynamic quantization\), float16 for the rest/);
  assert.equal(readOnnxInfo(readFileSync(join(paths.i8l!, "model.onnx"))).metadata["nast.int8"], "linear");
  assert.match(readFileSync(join(paths.i8l!, "MODEL_CARD.md"), "utf8"), /int8 for the linear layers \(dynamic quantization\), float32 for the rest/);
  assert.ok(size("i8l") > size("i8"), "the tables and convolutions stay float32 with --int8-scope linear");
  const a = await logProbs(join(paths.f32!, "model.onnx"));
  for (const name of ["i8", "i8h", "i8l"]) {
    const b = await logProbs(join(paths[name]!, "model.onnx"));
    let worst = 0;
    a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!))));
    // Random weights give near-uniform log-probs (about −4.2 for 64 pieces): int8 moves them by hundredths.
    assert.ok(worst > 1e-4 && worst < 0.3, `max |Δ log-prob| ${name} vs float32 = ${worst}`);
  }

  // `nast train --init` of an int8 package: every weight of the checkpoint comes back under its own name,
  // the quantized ones dequantized (within half a step of the checkpoint's), the rest as exported.
  const source = readCheckpoint(ckpt).tensors;
  const f32 = readOnnxWeights(join(paths.f32!, "model.onnx")).tensors;
  const i8 = readOnnxWeights(join(paths.i8!, "model.onnx")).tensors;
  // (Graph constants, e.g. const_14, are initializers too; their generated names differ between graphs.)
  const weights = (m: Map<string, unknown>) => [...m.keys()].filter((k) => source.has(k)).sort();
  assert.deepEqual(weights(i8), weights(f32));
  assert.ok(![...i8.keys()].some((k) => k.endsWith(".int8") || k.endsWith(".scale")));
  const values = (t: { data: Uint8Array }) => new Float32Array(t.data.slice().buffer);
  const tables = new Set(["pae.src", "pae.tgt", "adapter.embed"]);
  let quantized = 0;
  for (const name of weights(i8)) {
    const t = i8.get(name)!;
    assert.deepEqual(t.shape, f32.get(name)!.shape, name);
    const want = values(source.get(name)!);
    const got = values(t);
    // Each quantized weight comes back within half a step of its channel's scale (max |w| / 127): a linear's
    // channels are its rows, a table's its columns (d), a convolution's its output channels.
    const channel = (i: number): number | undefined => {
      if (t.shape.length === 3 && t.shape[0]! >= INT8_MIN_DIM && t.shape[1]! * t.shape[2]! >= INT8_MIN_DIM) return Math.floor(i / (t.shape[1]! * t.shape[2]!));
      if (t.shape.length !== 2 || Math.min(...t.shape) < INT8_MIN_DIM) return undefined;
      return tables.has(name) ? i % t.shape[1]! : Math.floor(i / t.shape[1]!);
    };
    if (channel(0) === undefined) {
      assert.deepEqual(got, want, name);
      continue;
    }
    quantized++;
    const max = new Map<number, number>();
    want.forEach((w, i) => max.set(channel(i)!, Math.max(max.get(channel(i)!) ?? 0, Math.abs(w))));
    want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= max.get(channel(i)!)! / 254 + 1e-7, `${name}[${i}]`));
  }
  const linearOnly = readOnnxWeights(join(paths.i8l!, "model.onnx")).tensors;
  for (const name of [...tables, "subsampler.conv.0.weight", "subsampler.conv.1.weight"]) {
    assert.notDeepEqual(values(i8.get(name)!), values(source.get(name)!), `${name} is quantized`);
    assert.deepEqual(values(linearOnly.get(name)!), values(source.get(name)!), `${name} stays float with --int8-scope linear`);
  }
  assert.equal(nast(["export", ckpt, "-o", join(work, "bad"), "--spm", spm, "--int8-scope", "linear"]).code, 2);
  const unknown = nast(["export", ckpt, "-o", join(work, "bad"), "--spm", spm, "--int8", "--int8-scope", "linear,attention"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /'attention' is not one of linear, embeddings, conv/);
  assert.ok(quantized >= 15, `${quantized} quantized weights`);
});
