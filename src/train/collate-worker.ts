// Worker thread of `nast train`: collates micro-batches (src/train/batch.ts) off the main thread, so that
// reading, CMVN, SpecAugment and padding overlap the model step (src/train/prefetch.ts). It opens the
// training store itself; a batch is a pure function of (store, indices, SpecAugment key), so it equals the
// in-thread collate bit for bit.
import { parentPort, workerData } from "node:worker_threads";
import { openFeatureStore, type FeatureStore } from "../data/feature-store.ts";
import { InputError } from "../util/errors.ts";
import { Rng } from "../util/rng.ts";
import { collate, type HostBatch } from "./batch.ts";

export interface CollateJob {
  indices: number[];
  /** Seed of the batch's own SpecAugment stream (specAugmentKey); null: no SpecAugment. */
  augmentKey: string | null;
}

export interface CollateWorkerData {
  storeDir: string;
}

/** An error as it crosses the thread boundary; InputError keeps its class (its input names the file). */
export interface WireError {
  name: string;
  message: string;
  input?: string;
  stack?: string;
}

export type CollateReply = { id: number; batch: HostBatch } | { id: number; error: WireError };

/** The in-thread collate of a job: what the worker computes, and the fallback when there is no worker. */
export function collateJob(store: FeatureStore, job: CollateJob): HostBatch {
  return collate(store, job.indices, job.augmentKey === null ? null : new Rng(job.augmentKey));
}

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  return { name: err.name, message: err.message, ...(err instanceof InputError ? { input: err.input } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

if (parentPort) {
  const port = parentPort;
  const { storeDir } = workerData as CollateWorkerData;
  // Opened on the first job, so that a store that cannot be opened fails that job (and says why).
  let store: FeatureStore | null = null;
  port.on("message", (msg: { id: number } & CollateJob) => {
    try {
      store ??= openFeatureStore(storeDir);
      const batch = collateJob(store, msg);
      port.postMessage({ id: msg.id, batch } satisfies CollateReply, [batch.feats.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: msg.id, error: toWire(err) } satisfies CollateReply);
    }
  });
}
