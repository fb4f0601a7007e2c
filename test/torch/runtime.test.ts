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
import { TEST_DEVICE } from "./helpers.ts";

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

test("autocast runs CUDA matmuls in bfloat16 and leaves CPU ops in float32", () =>
  tidy(() => {
    const a = randn([4, 4]);
    const b = randn([4, 4]);
    const inside = autocast(() => a.matmul(b));
    assert.equal(inside.dtype, TEST_DEVICE.startsWith("cuda") ? "bfloat16" : "float32");
    assert.equal(a.matmul(b).dtype, "float32", "autocast is switched off again");
    assert.throws(() => autocast(() => { throw new Error("inner"); }), /inner/);
    assert.equal(a.matmul(b).dtype, "float32", "and also after a throw");
  }));
