// Collates the training micro-batches of an epoch ahead, in a worker thread (src/train/collate-worker.ts),
// while the main thread runs the model step: collate (read fp16 features, CMVN, SpecAugment, padding)
// then leaves the step's critical path. The batches come back in plan order, bit-identical to the
// in-thread collate; without a worker (disabled, failed to start, died) the feed collates in-thread.
// An error collating a batch (a damaged store...) is thrown by the take() of that batch, not earlier.
import type { Worker } from "node:worker_threads";
import type { FeatureStore } from "../data/feature-store.ts";
import { errorMessage, InputError } from "../util/errors.ts";
import { spawnWorker } from "../util/spawn-worker.ts";
import type { HostBatch } from "./batch.ts";
import { collateJob, type CollateJob, type CollateReply, type CollateWorkerData, type WireError } from "./collate-worker.ts";

/** The SpecAugment stream of the micro-batch at (epoch, batch): its own, so a batch depends on its position only. */
export function specAugmentKey(seed: number, epoch: number, batchInEpoch: number): string {
  return `${seed}:${epoch}:${batchInEpoch}:specaugment`;
}

export interface FeedOptions {
  /** Collate in a worker thread (false: in-thread, same batches). */
  worker: boolean;
  /** Batches collated ahead of the one taken. */
  depth?: number;
  /** Called once if the worker cannot start or dies; the feed then collates in-thread. */
  onFallback?: (reason: string) => void;
}

interface Pending {
  job: CollateJob;
  resolve: (b: HostBatch) => void;
  reject: (e: Error) => void;
}

function fromWire(e: WireError): Error {
  const err = e.input !== undefined && e.message.startsWith(`${e.input}: `) ? new InputError(e.input, e.message.slice(e.input.length + 2)) : new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = `${err.name}: ${err.message}\n    (in the collate worker)\n${e.stack.split("\n").slice(1).join("\n")}`;
  return err;
}

function sameJob(a: CollateJob, b: CollateJob): boolean {
  return a.augmentKey === b.augmentKey && a.indices.length === b.indices.length && a.indices.every((i, k) => i === b.indices[k]);
}

export class CollateFeed {
  private worker: Worker | null = null;
  private readonly depth: number;
  private plan: CollateJob[] = [];
  private cursor = 0;
  /** Jobs sent to the worker, in plan order, not yet taken. */
  private ahead: { job: CollateJob; batch: Promise<HostBatch> }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;

  constructor(
    private readonly store: FeatureStore,
    private readonly opts: FeedOptions,
  ) {
    this.depth = opts.depth ?? 2;
    if (!opts.worker) return;
    try {
      const data: CollateWorkerData = { storeDir: store.dir };
      const worker = spawnWorker(import.meta.url, "collate-worker", "or train with --no-prefetch", { workerData: data });
      worker.on("message", (reply: CollateReply) => this.settle(reply));
      worker.on("error", (err) => this.lose(`the collate worker failed: ${errorMessage(err)}`));
      worker.on("exit", (code) => this.lose(`the collate worker exited with code ${code}`));
      this.worker = worker;
    } catch (err) {
      opts.onFallback?.(`the collate worker could not start: ${errorMessage(err)}`);
    }
  }

  /** The jobs to come, in the order take() will ask for them (replaces the previous plan). */
  setPlan(jobs: CollateJob[]): void {
    this.plan = jobs;
    this.cursor = 0;
    this.ahead = [];
  }

  /** The batch of `job`, the next one of the plan. */
  async take(job: CollateJob): Promise<HostBatch> {
    if (this.cursor >= this.plan.length && this.ahead.length === 0) throw new Error("CollateFeed.take: the plan is exhausted");
    const head = this.ahead.shift() ?? { job: this.plan[this.cursor]!, batch: this.send(this.plan[this.cursor++]!) };
    if (!sameJob(head.job, job)) throw new Error(`CollateFeed.take: asked for batch [${job.indices.join(",")}] but the plan has [${head.job.indices.join(",")}] next`);
    // Top up before waiting, so that the worker goes on with the next batches during this step.
    while (this.worker && this.ahead.length < this.depth && this.cursor < this.plan.length) {
      const next = this.plan[this.cursor++]!;
      this.ahead.push({ job: next, batch: this.send(next) });
    }
    return head.batch;
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private send(job: CollateJob): Promise<HostBatch> {
    if (!this.worker) {
      try {
        return Promise.resolve(collateJob(this.store, job));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const id = this.nextId++;
    const batch = new Promise<HostBatch>((resolve, reject) => this.pending.set(id, { job, resolve, reject }));
    // A batch collated ahead may fail and never be taken (the run stops first): not an unhandled rejection.
    batch.catch(() => {});
    this.worker.postMessage({ id, ...job });
    return batch;
  }

  private settle(reply: CollateReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if ("error" in reply) p.reject(fromWire(reply.error));
    else p.resolve(reply.batch);
  }

  /** The worker is gone: the batches it owed are collated here, as are all later ones. */
  private lose(reason: string): void {
    if (this.closing || !this.worker) return;
    this.worker = null;
    this.opts.onFallback?.(reason);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      try {
        p.resolve(collateJob(this.store, p.job));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }
}
