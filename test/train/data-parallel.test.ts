// Data-parallel `nast train` with two Gloo ranks on this machine (loopback TCP store): the run equals one process
// with --accum 2 on the same global batches; a rank that dies takes the job down with an error naming it, with
// and without the --nproc launcher; a SIGTERM stops both ranks after the same update, and resuming the
// two-process run gives the uninterrupted run's losses and weights.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { readSafetensors, toFloat64 } from "../../src/formats/safetensors.ts";
import { listCheckpoints } from "../../src/train/checkpoint.ts";
import { distEnv, shareOf } from "../../src/train/data-parallel.ts";
import { planBuckets } from "../../src/train/grad-sync.ts";
import { freePort } from "../../src/train/launcher.ts";
import { UsageError } from "../../src/util/errors.ts";
import { runNast, startNast } from "../helpers/cli.ts";
import { nast, readLog, shortCorpus, type Data, type LogRecord } from "./fixture.ts";

let d: Data;
const COMMON = ["--threads", "1", "--no-progress", "--max-frames", "1200", "--warmup", "20", "--lr", "5e-3", "--max-epochs", "1000", "--valid-max", "1"];

before(() => {
  d = shortCorpus();
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

const trainRecords = (exp: string) => readLog(exp).filter((r) => r.event === "train");

function lastWeights(exp: string) {
  return readSafetensors(listCheckpoints(exp).at(-1)!.path).tensors;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function ended(child: ChildProcess): Promise<Ended> {
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Polls `ready` every 5 ms; resolves once it holds (rejects after `seconds`). */
function when(ready: () => boolean, seconds = 60): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - t0 > seconds * 1000) {
        clearInterval(timer);
        reject(new Error(`not ready after ${seconds} s`));
      }
    }, 5);
  });
}

/** Whether the log of `exp` has a "train" record of update `step` or later. */
function reached(exp: string, step: number): boolean {
  const log = join(exp, "train.log.jsonl");
  if (!existsSync(log)) return false;
  return readFileSync(log, "utf8").split("\n").some((l) => l.includes('"event":"train"') && (JSON.parse(l) as LogRecord).step! >= step);
}

test("the ranks' shares of a group, the gradient buckets, and bad rank variables", () => {
  assert.deepEqual(shareOf(5, 0, 2), [0, 2, 4]);
  assert.deepEqual(shareOf(5, 1, 2), [1, 3]);
  assert.deepEqual(shareOf(1, 1, 2), []);
  const sizes = [{ name: "a", bytes: 3 }, { name: "b", bytes: 2 }, { name: "big", bytes: 9 }, { name: "c", bytes: 1 }];
  assert.deepEqual(planBuckets(sizes, 5), [["a", "b"], ["big"], ["c"]]);
  assert.equal(distEnv({}), null);
  assert.deepEqual(distEnv({ WORLD_SIZE: "2", RANK: "1", MASTER_PORT: "1234" }), { rank: 1, worldSize: 2, localRank: 1, masterAddr: "127.0.0.1", masterPort: 1234 });
  assert.throws(() => distEnv({ WORLD_SIZE: "2", RANK: "2" }), (e: Error) => e instanceof UsageError && /RANK must be an integer in 0\.\.1 \(with WORLD_SIZE=2\), got "2"/.test(e.message));
  assert.throws(() => distEnv({ WORLD_SIZE: "two", RANK: "0" }), /WORLD_SIZE must be an integer in 1\.\.65536/);
});

test("bad data-parallel flags and variables are usage errors naming them", () => {
  const base = ["train", "-c", "tiny", "-d", d.data, "-o", join(d.dir, "exp-bad-flags"), ...COMMON];
  for (const [flag, value, message] of [
    ["--nproc", "0", /--nproc must be at least 1/],
    ["--dist-timeout", "0", /--dist-timeout must be a positive number of seconds/],
    ["--bucket-mb", "none", /--bucket-mb must be a number, got "none"/],
  ] as const) {
    const r = nast([...base, flag, value], { allowFail: true });
    assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const r = runNast(base, undefined, { env: { ...process.env, WORLD_SIZE: "2", RANK: "5" } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /RANK must be an integer in 0\.\.1 \(with WORLD_SIZE=2\), got "5"/);
  assert.ok(!existsSync(join(d.dir, "exp-bad-flags")), "nothing written");
});

test("--nproc 2 makes the updates of one process with --accum 2: same losses, gradient norms and parameters; rank 0 alone writes", () => {
  const args = (exp: string, ...more: string[]) => ["train", "-c", "tiny", "-d", d.data, "-o", exp, "--max-steps", "6", "--valid-every", "3", ...COMMON, ...more];
  const one = join(d.dir, "exp-accum2");
  const two = join(d.dir, "exp-nproc2");
  // One BLAS thread in both (the launcher gives each rank cores / 2 unless OMP_NUM_THREADS says otherwise): a
  // different thread count sums matrix products in another order, which the comparison is not about.
  const env = { ...process.env, OMP_NUM_THREADS: "1" };
  const run = (argv: string[]) => {
    const r = runNast(argv, undefined, { env });
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  run(args(one, "--accum", "2"));
  const r = run(args(two, "--nproc", "2"));
  assert.equal(r.stderr.match(/nast train: reached --max-steps 6/g)?.length, 1, "one summary, from rank 0");
  const a = trainRecords(one);
  const b = trainRecords(two);
  assert.equal(b.length, 6, "one train record per update: rank 0's");
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(b[i]!.loss! - a[i]!.loss!) <= 1e-5 * a[i]!.loss!, `loss at update ${i + 1}: ${b[i]!.loss} vs ${a[i]!.loss}`);
    const [ga, gb] = [a[i]!.gradNorm as number, b[i]!.gradNorm as number];
    assert.ok(Math.abs(gb - ga) <= 1e-5 * ga, `gradient norm at update ${i + 1}: ${gb} vs ${ga}`);
    assert.equal(b[i]!.frames, a[i]!.frames);
  }
  const start = readLog(two).filter((x) => x.event === "start");
  assert.equal(start.length, 1);
  assert.equal(start[0]!.worldSize, 2);
  assert.equal(start[0]!.backend, "gloo");
  assert.deepEqual(listCheckpoints(two).map((c) => c.step), [3, 6]);
  // Parameters equal; the batch-norm running statistics are the ranks' mean, not one process's sequence.
  const wa = lastWeights(one);
  const wb = lastWeights(two);
  for (const [name, t] of wa) {
    if (/running_(mean|var)$/.test(name)) continue;
    const x = toFloat64(t);
    const y = toFloat64(wb.get(name)!);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-5 * (1 + Math.abs(x[i]!)), `${name}[${i}]: ${y[i]} vs ${x[i]}`);
  }
});

test("a rank killed during training takes the job down: the other names it, the launcher says which rank died", async () => {
  const exp = join(d.dir, "exp-killed-rank");
  const job = startNast(["train", "-c", "tiny", "-d", d.data, "-o", exp, "--nproc", "2", "--max-steps", "1000", "--valid-every", "1000", ...COMMON], { stdio: ["ignore", "ignore", "pipe"] });
  const done = ended(job);
  await when(() => reached(exp, 2));
  const pids = readLog(exp).find((r) => r.event === "start")!.pids as number[];
  process.kill(pids[1]!, "SIGKILL");
  const end = await done;
  assert.equal(end.code, 1, end.stderr);
  assert.match(end.stderr, new RegExp(`nast: rank 1 \\(pid ${pids[1]}\\) was killed by SIGKILL; stopping the other 1 rank\\(s\\)`));
  assert.match(end.stderr, new RegExp(`nast: rank 0 of 2 stops: rank 1 \\(pid ${pids[1]}\\) is gone: all-reduce of \\d+ tensor\\(s\\) on rank 0 failed`));
});

test("without the launcher (torchrun's variables), killing rank 0, the store's host, stops rank 1 with an error naming it", async () => {
  const exp = join(d.dir, "exp-torchrun");
  const port = await freePort();
  const ranks = [0, 1].map((rank) =>
    startNast(["train", "-c", "tiny", "-d", d.data, "-o", exp, "--max-steps", "1000", "--valid-every", "1000", "--dist-timeout", "60", ...COMMON], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port) },
    }),
  );
  const ends = ranks.map(ended);
  await when(() => reached(exp, 2));
  ranks[0]!.kill("SIGKILL");
  const [first, second] = await Promise.all(ends);
  assert.equal(first!.signal, "SIGKILL");
  assert.equal(second!.code, 1, second!.stderr);
  assert.match(second!.stderr, new RegExp(`nast: rank 1 of 2 stops: rank 0 \\(pid ${ranks[0]!.pid}\\) is gone: `));
});

test("SIGTERM stops both ranks after the same update with a checkpoint (exit 143); the resumed 2-process run equals the uninterrupted one", async () => {
  const args = (exp: string) => ["train", "-c", "tiny", "-d", d.data, "-o", exp, "--nproc", "2", "--max-steps", "8", "--valid-every", "3", ...COMMON];
  const whole = join(d.dir, "exp-dp-whole");
  nast(args(whole));
  const stopped = join(d.dir, "exp-dp-stopped");
  const job = startNast(args(stopped), { stdio: ["ignore", "ignore", "pipe"] });
  const done = ended(job);
  await when(() => existsSync(join(stopped, "checkpoints", "latest.json")));
  job.kill("SIGTERM");
  const end = await done;
  assert.equal(end.code, 143, end.stderr);
  const stop = readLog(stopped).find((r) => r.event === "done")!;
  assert.equal(stop.reason, "stopped by SIGTERM");
  const at = stop.step as number;
  assert.ok(at >= 3 && at < 8, `stopped at update ${at}`);
  assert.equal(listCheckpoints(stopped).at(-1)!.step, at, "the last update is checkpointed");
  nast(["train", "-d", d.data, "-o", stopped, "--resume", "--nproc", "2", "--threads", "1", "--no-progress"]);
  const a = new Map(trainRecords(whole).map((r) => [r.step, r.loss]));
  const b = new Map(trainRecords(stopped).map((r) => [r.step, r.loss]));
  for (let step = 1; step <= 8; step++) assert.equal(b.get(step), a.get(step), `loss at update ${step}`);
  const wa = lastWeights(whole);
  const wb = lastWeights(stopped);
  for (const [name, t] of wa) assert.deepEqual(wb.get(name)!.bytes, t.bytes, name);
});
