// `nast export`: the model package it writes (files, embedded config, card), --fp16 (half-size weights
// whose outputs stay close to float32), and clear errors for checkpoints that do not fit their config.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, withVocabSize } from "../../src/model/config.ts";
import { randomStateDict } from "../../src/export/random-state.ts";
import { readCheckpoint, toHostTensors } from "../../src/export/checkpoint.ts";
import { resolveSafetensorsPath } from "../../src/formats/checkpoint-path.ts";
import { encodeSafetensors } from "../../src/formats/safetensors.ts";
import { readOnnxInfo } from "../../src/formats/onnx-info.ts";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../../src/export/graph.ts";
import { modelProto } from "../../src/formats/onnx-proto.ts";
import { exportFixture, logProbs } from "./helpers.ts";
import { runNast as nast } from "../helpers/cli.ts";

const work = mkdtempSync(join(tmpdir(), "nast-export-"));
const cfg = withVocabSize(loadConfig("tiny"), 64);
let spm = "";
let ckpt = "";

before(() => ({ spm, ckpt } = exportFixture(work, cfg, 3)));
after(() => rmSync(work, { recursive: true, force: true }));


test("export writes model.onnx, spm.model, config.json and MODEL_CARD.md; the config is embedded", () => {
  const out = join(work, "model");
  // spm.model is found two directories above the checkpoint (DATA_DIR/exp/ckpt → DATA_DIR/spm.model).
  const r = nast(["export", ckpt, "-o", out]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.spm, spm);
  assert.deepEqual(readdirSync(out).sort(), ["MODEL_CARD.md", "config.json", "model.onnx", "spm.model"]);
  assert.deepEqual(readFileSync(join(out, "spm.model")), readFileSync(spm));
  const info = readOnnxInfo(readFileSync(join(out, "model.onnx")));
  assert.deepEqual(JSON.parse(info.metadata["nast.config"]!), JSON.parse(readFileSync(join(out, "config.json"), "utf8")));
  assert.equal(info.metadata["nast.step"], "0");
  assert.equal(info.metadata["nast.frame_seconds"], "0.04");
  assert.deepEqual(info.inputs, ["feats", "lengths"]);
  assert.deepEqual(
    info.outputs.map((o) => [o.name, o.dims]),
    [
      ["tgt_ids", ["B", "T_out"]],
      ["tgt_scores", ["B", "T_out"]],
      ["src_ids", ["B", "T_out"]],
      ["out_lengths", ["B"]],
      ["tgt_blank_scores", ["B", "T_out"]],
      ["tgt_alt_ids", ["B", "T_out"]],
      ["tgt_alt_scores", ["B", "T_out"]],
      ["tgt_log_probs", ["B", "T_out", 64]],
    ],
  );
  const card = readFileSync(join(out, "MODEL_CARD.md"), "utf8");
  assert.match(card, /LiSA attention sharing: acoustic layers 2; textual layers 2/);
  assert.match(card, new RegExp(`Parameters: ${(summary.parameters / 1e6).toFixed(2)} M`));
});

test("--fp16 halves the weights and keeps the log-probabilities within 1e-2", async () => {
  const out16 = join(work, "model16");
  const r = nast(["export", ckpt, "-o", out16, "--fp16", "--spm", spm]);
  assert.equal(r.code, 0, r.stderr);
  const size32 = statSync(join(work, "model", "model.onnx")).size;
  const size16 = statSync(join(out16, "model.onnx")).size;
  assert.ok(size16 < 0.6 * size32, `${size16} vs ${size32} bytes`);
  const a = await logProbs(join(work, "model", "model.onnx"));
  const b = await logProbs(join(out16, "model.onnx"));
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!))));
  assert.ok(worst > 0 && worst < 1e-2, `max |Δ log-prob| fp16 vs fp32 = ${worst}`);
});

test("checkpoints that do not fit: wrong shape, missing tensor, no config, no spm.model, truncated file", () => {
  const state = randomStateDict(cfg, 1);
  const meta = { "nast.config": JSON.stringify(cfg) };
  const bad = (name: string, tensors: typeof state, metadata: Record<string, string> = meta): string => {
    const p = join(work, name);
    writeFileSync(p, encodeSafetensors(toHostTensors(tensors), metadata));
    return p;
  };
  const wrong = new Map(state);
  wrong.set("ctc.weight", { dtype: "float32", shape: [32, 64], data: new Uint8Array(32 * 64 * 4) });
  let r = nast(["export", bad("wrong.safetensors", wrong), "-o", join(work, "x1"), "--spm", spm]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrong\.safetensors: the weights do not match the model config: 'ctc\.weight' has shape \[32,64\] but the config needs \[64,64\]/);

  const missing = new Map(state);
  missing.delete("embed_norm.weight");
  r = nast(["export", bad("missing.safetensors", missing), "-o", join(work, "x2"), "--spm", spm]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'embed_norm\.weight' is missing/);

  r = nast(["export", bad("noconfig.safetensors", state, {}), "-o", join(work, "x3"), "--spm", spm]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /has no "nast\.config" metadata/);

  const lonely = mkdtempSync(join(tmpdir(), "nast-export-lonely-"));
  writeFileSync(join(lonely, "c.safetensors"), readFileSync(ckpt));
  r = nast(["export", join(lonely, "c.safetensors"), "-o", join(work, "x4")]);
  rmSync(lonely, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no spm\.model found .* pass --spm/);

  // An experiment directory elsewhere: its training log names the data directory.
  const exp = mkdtempSync(join(tmpdir(), "nast-export-exp-"));
  writeFileSync(join(exp, "c.safetensors"), readFileSync(ckpt));
  writeFileSync(join(exp, "train.log.jsonl"), `${JSON.stringify({ time: "t", event: "start", data: join(work, "data") })}\n{"event":"train"}\n`);
  r = nast(["export", exp, "-o", join(work, "x6")]);
  rmSync(exp, { recursive: true, force: true });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).spm, spm);

  const truncated = join(work, "truncated.safetensors");
  const whole = readFileSync(ckpt);
  writeFileSync(truncated, whole.subarray(0, 8 + Number(whole.readBigUInt64LE(0)) + 100));
  r = nast(["export", truncated, "-o", join(work, "x5"), "--spm", spm]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /truncated\.safetensors: tensor .* do not fit shape .* \(file truncated\?\)/);
  assert.equal(readCheckpoint(ckpt).tensors.size, state.size);
});

test("a checkpoint may be named by its experiment directory (latest.json) or a directory holding one model", () => {
  const exp = join(work, "exp-dir");
  const ckdir = join(exp, "checkpoints");
  mkdirSync(ckdir, { recursive: true });
  for (const f of ["ckpt-00000100.safetensors", "ckpt-00000100.train.safetensors", "ckpt-00000200.safetensors", "ckpt-00000200.train.safetensors"]) writeFileSync(join(ckdir, f), "");
  writeFileSync(join(ckdir, "latest.json"), JSON.stringify({ step: 200, model: "ckpt-00000200.safetensors", train: "ckpt-00000200.train.safetensors" }));
  assert.equal(resolveSafetensorsPath(exp), join(ckdir, "ckpt-00000200.safetensors"));
  assert.equal(resolveSafetensorsPath(ckdir), join(ckdir, "ckpt-00000200.safetensors"));
  const single = join(work, "single");
  mkdirSync(single, { recursive: true });
  writeFileSync(join(single, "avg.safetensors"), "");
  writeFileSync(join(single, "avg.train.safetensors"), "");
  assert.equal(resolveSafetensorsPath(single), join(single, "avg.safetensors"));
  writeFileSync(join(single, "other.safetensors"), "");
  assert.throws(() => resolveSafetensorsPath(single), /holds several checkpoints \(avg\.safetensors, other\.safetensors\); name one/);
  assert.throws(() => resolveSafetensorsPath(join(work, "nothing-here")), /no such checkpoint/);
});

/** All outputs of a package's model.onnx for a fixed batch of two (120 and 77 frames). */
async function allOutputs(modelPath: string): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(modelPath);
  const T = 120;
  const feats = Float32Array.from({ length: 2 * T * 80 }, (_, i) => Math.sin(i * 0.11) + Math.cos(i * 0.017));
  const out = await session.run({ feats: new ort.Tensor("float32", feats, [2, T, 80]), lengths: new ort.Tensor("int64", BigInt64Array.from([BigInt(T), 77n]), [2]) });
  await session.release();
  return out;
}

test("the graph's per-frame outputs are its log-probabilities' argmax and max, the blank's, and the best other token's", async () => {
  // Random weights rarely put the blank first: raise its bias by the median margin, so that about half the frames do.
  const first = await allOutputs(join(work, "model", "model.onnx"));
  const V = first.tgt_log_probs!.dims[2]!;
  const firstLp = first.tgt_log_probs!.data as Float32Array;
  const margins = Array.from({ length: firstLp.length / V }, (_, f) => Math.max(...firstLp.subarray(f * V, (f + 1) * V)) - firstLp[f * V]!).sort((x, y) => x - y);
  const state = readCheckpoint(ckpt).tensors;
  const bias = new Float32Array(state.get("ctc.tgt_bias")!.data.slice().buffer);
  bias[0] = bias[0]! + margins[margins.length >> 1]!;
  state.set("ctc.tgt_bias", { dtype: "float32", shape: [V], data: new Uint8Array(bias.buffer) });
  const raised = join(work, "raised.safetensors");
  writeFileSync(raised, encodeSafetensors(toHostTensors(state), readCheckpoint(ckpt).metadata));
  assert.equal(nast(["export", raised, "-o", join(work, "raised"), "--spm", spm]).code, 0);

  const out = await allOutputs(join(work, "raised", "model.onnx"));
  const lp = out.tgt_log_probs!.data as Float32Array;
  const frames = lp.length / V;
  const [ids, scores, blank, altIds, altScores] = ["tgt_ids", "tgt_scores", "tgt_blank_scores", "tgt_alt_ids", "tgt_alt_scores"].map((n) => out[n]!.data as Float32Array | BigInt64Array);
  let blankFirst = 0;
  for (let f = 0; f < frames; f++) {
    const row = lp.subarray(f * V, (f + 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    let other = 1;
    for (let v = 2; v < V; v++) if (row[v]! > row[other]!) other = v;
    assert.equal(Number(ids[f]), best, `frame ${f}`);
    assert.equal(scores[f], row[best]);
    assert.equal(blank[f], row[0]);
    assert.equal(Number(altIds[f]), other, `frame ${f}`);
    assert.equal(altScores[f], row[other]);
    if (best === 0) blankFirst++;
  }
  assert.ok(blankFirst > frames / 4 && blankFirst < (3 * frames) / 4, `${blankFirst} of ${frames} frames have the blank first`);
});

test("onnxruntime's TopK puts equal values in index order, as ArgMax takes the first (what tgt_ids relies on)", async () => {
  const g = new GraphBuilder();
  const x = g.input("x", "float32", [2, 4]);
  const [values, indices] = g.node("TopK", [x, g.ints([2])], { axis: 1, largest: 1, sorted: 1 }, ["float32", "int64"]);
  g.output(values!, "values");
  g.output(indices!, "indices");
  const session = await ort.InferenceSession.create(Buffer.concat(modelProto(g.model({ graphName: "t", metadata: {}, producerVersion: "t" }))));
  const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from([1, 3, 3, 0, 2, 2, 2, 2]), [2, 4]) });
  await session.release();
  assert.deepEqual(Array.from(out.indices!.data as BigInt64Array, Number), [1, 2, 0, 1]);
});