// Checkpoint files (their safetensors codec: test/formats/safetensors.test.ts): averaging equals the
// elementwise mean, retention keeps the last N and best N, latest.json points at a complete checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNast } from "../helpers/cli.ts";
import {
  averageCheckpoints,
  listCheckpoints,
  loadLatestCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type TrainerState,
} from "../../src/train/checkpoint.ts";
import { f32Tensor, fromFloat64, type HostTensor, readSafetensors, toFloat64 } from "../../src/formats/safetensors.ts";

function state(step: number): TrainerState {
  return { step, epoch: 0, batchInEpoch: step, badSteps: 0, seed: 1, options: {}, elapsed: 0 };
}

function model(seed: number): Map<string, HostTensor> {
  const w = new Float32Array(6).map((_, i) => seed * 0.5 + i * 0.25);
  return new Map<string, HostTensor>([
    ["layer.weight", f32Tensor(w, [2, 3])],
    ["bn.num_batches_tracked", fromFloat64(new Float64Array([seed * 3]), "I64", [])],
  ]);
}

test("average of two checkpoints equals the elementwise mean; integers floor", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-ckpt-"));
  try {
    saveCheckpoint(dir, { model: model(1), optimizer: new Map(), config: { name: "x" }, state: state(1), devBleu: 1 });
    saveCheckpoint(dir, { model: model(4), optimizer: new Map(), config: { name: "y" }, state: state(2), devBleu: 2 });
    const paths = listCheckpoints(dir).map((c) => c.path);
    const { tensors, metadata } = averageCheckpoints(paths);
    const a = toFloat64(model(1).get("layer.weight")!);
    const b = toFloat64(model(4).get("layer.weight")!);
    const avg = toFloat64(tensors.get("layer.weight")!);
    avg.forEach((v, i) => assert.equal(v, Math.fround(((a[i] as number) + (b[i] as number)) / 2)));
    assert.deepEqual(Array.from(toFloat64(tensors.get("bn.num_batches_tracked")!)), [7]); // floor((3 + 12) / 2)
    assert.equal(tensors.get("bn.num_batches_tracked")!.dtype, "I64");
    assert.equal(JSON.parse(metadata["nast.config"]!).name, "y");
    assert.deepEqual(JSON.parse(metadata["nast.averaged"]!), paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("nast average CLI writes the mean of the best N", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-avg-"));
  try {
    for (const [step, bleu] of [[1, 5], [2, 9], [3, 7]] as const) {
      saveCheckpoint(dir, { model: model(step), optimizer: new Map(), config: {}, state: state(step), devBleu: bleu });
    }
    const out = join(dir, "avg.safetensors");
    const r = runNast(["average", dir, "--best", "2", "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    const w = toFloat64(readSafetensors(out).tensors.get("layer.weight")!);
    const expect = toFloat64(model(2).get("layer.weight")!).map((v, i) => Math.fround((v + toFloat64(model(3).get("layer.weight")!)[i]!) / 2));
    assert.deepEqual(Array.from(w), Array.from(expect), "best two by BLEU are steps 2 and 3");
    const log = JSON.parse(r.stderr.trim().split("\n").pop()!);
    assert.deepEqual(log.checkpoints.map((c: { step: number }) => c.step), [2, 3]);
    const bad = runNast(["average", join(dir, "nope"), "-o", out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no checkpoints in .*nope/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("retention keeps the last N and the best N; resume reads the latest complete checkpoint", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-keep-"));
  try {
    const bleus = [3, 10, 4, 2, 1, 0.5];
    bleus.forEach((bleu, i) => {
      const opt = new Map([["m.layer.weight", f32Tensor(new Float32Array(6).fill(i), [2, 3])]]);
      saveCheckpoint(dir, { model: model(i), optimizer: opt, config: { p: i }, state: state(i + 1), devBleu: bleu });
      pruneCheckpoints(dir, 2, 1);
    });
    assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [2, 5, 6]);
    const files = readdirSync(join(dir, "checkpoints")).sort();
    assert.equal(files.filter((f) => f.endsWith(".train.safetensors")).length, 3, files.join(" "));
    assert.ok(!files.some((f) => f.includes(".tmp-")), "no temporary files left");
    const latest = loadLatestCheckpoint(dir)!;
    assert.equal(latest.state.step, 6);
    assert.deepEqual(latest.config, { p: 5 });
    assert.deepEqual(Array.from(toFloat64(latest.optimizer.get("m.layer.weight")!)), [5, 5, 5, 5, 5, 5]);
    assert.equal(JSON.parse(readFileSync(join(dir, "checkpoints", "latest.json"), "utf8")).step, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
