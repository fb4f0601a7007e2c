// The collate worker (src/train/prefetch.ts): batches collated ahead in a worker thread equal the in-thread
// collate bit for bit (SpecAugment included), and a failure there is thrown on the main thread, naming the file.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FEATURE_DIM, openFeatureStore, STORE_DATA, STORE_FORMAT, STORE_INDEX, STORE_MARKER, STORE_VERSION, type StoreIndex, type StoreMarker } from "../../src/data/feature-store.ts";
import { encodeHalf } from "../../src/formats/float16.ts";
import { Rng } from "../../src/util/rng.ts";
import { collateJob, type CollateJob } from "../../src/train/collate-worker.ts";
import { CollateFeed, specAugmentKey } from "../../src/train/prefetch.ts";

/** A float16 store of `count` random utterances of 40–139 frames. */
function makeStore(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "nast-prefetch-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(3);
  const frames = Array.from({ length: count }, () => rng.range(40, 140));
  const start: number[] = [];
  let values = 0;
  for (const f of frames) {
    start.push(values);
    values += f * FEATURE_DIM;
  }
  const data = new Float32Array(values).map(() => rng.normal() * 3 + 5);
  const half = new Uint16Array(values);
  encodeHalf(data, half);
  writeFileSync(join(dir, STORE_DATA), half);
  const ids = frames.map((_, i) => `utt${i}`);
  const index: StoreIndex = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    split: "train",
    dtype: "float16",
    dim: FEATURE_DIM,
    count,
    columns: {
      id: ids,
      talk: ids.map(() => "talk"),
      offset: ids.map((_, i) => i),
      duration: frames.map((f) => f / 100),
      speaker: ids.map(() => "spk"),
      frames,
      start,
      src: ids,
      tgt: ids,
      srcIds: frames.map((f) => [f % 7, 2, 3]),
      tgtIds: frames.map((f) => [4, f % 5]),
    },
  };
  writeFileSync(join(dir, STORE_INDEX), JSON.stringify(index));
  const marker: StoreMarker = { count, dataBytes: half.byteLength, dtype: "float16", spmSha256: "", failedTalks: [], filtered: { tooShort: 0, tooLong: 0, emptyTarget: 0 }, finishedAt: "" };
  writeFileSync(join(dir, STORE_MARKER), JSON.stringify(marker));
  return dir;
}

const jobs: CollateJob[] = [[0, 1, 2], [3], [4, 5], [6, 7, 8, 9], [10, 11], [1, 3, 5]].map((indices, j) => ({
  indices,
  augmentKey: j === 1 ? null : specAugmentKey(1, 0, j),
}));

test("batches collated ahead in the worker equal the in-thread collate bit for bit", async () => {
  const store = openFeatureStore(makeStore(12));
  let fallback: string | null = null;
  const feed = new CollateFeed(store, { worker: true, onFallback: (r) => (fallback = r) });
  try {
    feed.setPlan(jobs);
    for (const job of jobs) {
      const got = await feed.take(job);
      const want = collateJob(store, job);
      assert.deepEqual(got.indices, want.indices);
      assert.equal(got.frames, want.frames);
      assert.equal(got.dim, want.dim);
      assert.deepEqual(got.lengths, want.lengths);
      assert.deepEqual(got.srcTargets, want.srcTargets);
      assert.deepEqual(got.tgtTargets, want.tgtTargets);
      assert.ok(Buffer.from(got.feats.buffer, got.feats.byteOffset, got.feats.byteLength).equals(Buffer.from(want.feats.buffer, want.feats.byteOffset, want.feats.byteLength)), `feats of batch [${job.indices}]`);
    }
    assert.equal(fallback, null, "the worker ran");
    // SpecAugment did something, so the comparison covered it.
    const plain = collateJob(store, { indices: jobs[0]!.indices, augmentKey: null });
    assert.notDeepEqual(plain.feats, collateJob(store, jobs[0]!).feats);
  } finally {
    await feed.close();
    store.close();
  }
});

test("a batch the worker cannot collate fails its take() on the main thread, naming the file", async () => {
  const dir = makeStore(4);
  const store = openFeatureStore(dir);
  const feed = new CollateFeed(store, { worker: true });
  try {
    // The worker opens the store on its first job: damaged by then.
    truncateSync(join(dir, STORE_DATA), 100);
    feed.setPlan(jobs.slice(0, 2));
    await assert.rejects(feed.take(jobs[0]!), (err: Error) => {
      assert.equal(err.name, "InputError");
      assert.match(err.message, new RegExp(`${join(dir, STORE_DATA).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: has 100 bytes.*damaged`));
      return true;
    });
  } finally {
    await feed.close();
    store.close();
  }
});

test("without a worker the feed collates in-thread, the same batches in plan order", async () => {
  const store = openFeatureStore(makeStore(12));
  const feed = new CollateFeed(store, { worker: false });
  try {
    feed.setPlan(jobs);
    for (const job of jobs) assert.deepEqual(await feed.take(job), collateJob(store, job));
    await assert.rejects(feed.take(jobs[0]!), /plan is exhausted/);
  } finally {
    await feed.close();
    store.close();
  }
});
