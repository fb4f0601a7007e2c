// Runs tasks on a pool of worker threads, one task per worker at a time, results in completion
// order. A worker that dies (crash, out of memory) fails only its task; a fresh worker replaces it.
// Protocol: the worker posts WORKER_READY once its message handler is installed, then one result
// per task it receives.
import type { Worker } from "node:worker_threads";

export const WORKER_READY = "nast-worker-ready";

export async function runPool<T, R>(
  spawn: () => Worker,
  tasks: T[],
  jobs: number,
  onResult: (result: R, task: T) => void,
  onCrash: (task: T, error: Error) => R,
): Promise<void> {
  if (tasks.length === 0) return;
  let next = 0;
  const spawnWorker = (): Promise<void> =>
    new Promise((resolve) => {
      const worker = spawn();
      let current: T | undefined;
      let settled = false;
      const feed = () => {
        if (next >= tasks.length) {
          current = undefined;
          settled = true;
          void worker.terminate().then(() => resolve());
          return;
        }
        current = tasks[next++]!;
        worker.postMessage(current);
      };
      worker.on("message", (msg: R | typeof WORKER_READY) => {
        if (msg === WORKER_READY) return feed();
        onResult(msg as R, current as T);
        feed();
      });
      const lost = (error: Error) => {
        if (settled) return;
        settled = true;
        if (current !== undefined) onResult(onCrash(current, error), current);
        // Carry on with a fresh worker for the remaining tasks.
        void spawnWorker().then(resolve);
      };
      worker.on("error", lost);
      worker.on("exit", (code) => lost(new Error(`worker exited with code ${code}`)));
    });
  const n = Math.max(1, Math.min(jobs, tasks.length));
  await Promise.all(Array.from({ length: n }, spawnWorker));
}
