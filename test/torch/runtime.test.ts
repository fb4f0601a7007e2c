// Process-wide switches: threads, seeds, autocast, TF32, synchronize, version.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  autocast,
  cudaAvailable,
  cudaDeviceCount,
  manualSeed,
  numThreads,
  randn,
  setNumThreads,
  setTF32,
  synchronize,
  tidy,
  torchVersion,
} from "../../src/torch/index.ts";

test("thread count can be set and read back", () => {
  const before = numThreads();
  setNumThreads(2);
  assert.equal(numThreads(), 2);
  setNumThreads(1);
  assert.equal(numThreads(), 1);
  setNumThreads(before);
  assert.throws(() => setNumThreads(0), /setNumThreads: .*(positive|>)/);
});

test("manualSeed makes randn reproducible and different seeds differ", () =>
  tidy(() => {
    manualSeed(123);
    const a = randn([8]).toArray();
    manualSeed(123);
    assert.deepEqual(randn([8]).toArray(), a);
    manualSeed(124);
    assert.notDeepEqual(randn([8]).toArray(), a);
  }));

test("CUDA queries agree with each other; synchronize and TF32 are safe on any device", () => {
  assert.equal(cudaAvailable(), cudaDeviceCount() > 0);
  synchronize();
  setTF32(true);
  setTF32(false);
  assert.match(torchVersion(), /^\d+\.\d+/);
});

test("autocast leaves CPU ops in float32, and is off again after its callback, also after a throw", () =>
  tidy(() => {
    const a = randn([4, 4], { device: "cpu" });
    const b = randn([4, 4], { device: "cpu" });
    assert.equal(autocast(() => a.matmul(b)).dtype, "float32", "bf16 autocast is CUDA's only");
    assert.equal(a.matmul(b).dtype, "float32");
    assert.throws(() => autocast(() => { throw new Error("inner"); }), /inner/);
    assert.equal(a.matmul(b).dtype, "float32");
  }));

// On a machine without CUDA this is reported as skipped, with the reason, rather than passing trivially.
test("autocast runs CUDA matmuls in bfloat16", { skip: cudaAvailable() ? false : "needs a CUDA device (NAST_TEST_DEVICE=cuda on a GPU host, docs/gpu.md)" }, () =>
  tidy(() => {
    const a = randn([4, 4], { device: "cuda" });
    const b = randn([4, 4], { device: "cuda" });
    assert.equal(autocast(() => a.matmul(b)).dtype, "bfloat16");
    assert.equal(a.matmul(b).dtype, "float32", "autocast is switched off again");
    assert.throws(() => autocast(() => { throw new Error("inner"); }), /inner/);
    assert.equal(a.matmul(b).dtype, "float32", "and also after a throw");
  }));
