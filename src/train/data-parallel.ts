// Data-parallel training on c10d (src/torch/distributed.ts): the rank's place read from the variables torchrun
// (and `nast train --nproc`, src/train/launcher.ts) set, the process group (Gloo on CPU, NCCL on CUDA) formed
// over a TCP store at MASTER_ADDR:MASTER_PORT, each rank's share of a group of micro-batches, and an error
// that names the rank that is gone when a collective fails.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { CollectiveError, ProcessGroup, type Backend } from "../torch/distributed.ts";
import { noGrad, tensor, type Tensor } from "../torch/index.ts";
import { UsageError } from "../util/errors.ts";
import { GradientBuckets } from "./grad-sync.ts";

export interface DistEnv {
  rank: number;
  worldSize: number;
  /** The rank's index on its host: its GPU. */
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

/** The rank's place from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; null when WORLD_SIZE is unset. */
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined) return null;
  const int = (name: string, min: number, max: number, dflt?: number): number => {
    const text = env[name];
    if (text === undefined && dflt !== undefined) return dflt;
    const n = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`${name} must be an integer in ${min}..${max} (with WORLD_SIZE=${env.WORLD_SIZE}), got ${text === undefined ? "nothing" : JSON.stringify(text)}`);
    }
    return n;
  };
  const worldSize = int("WORLD_SIZE", 1, 65536);
  const rank = int("RANK", 0, worldSize - 1);
  return {
    rank,
    worldSize,
    localRank: int("LOCAL_RANK", 0, worldSize - 1, rank),
    masterAddr: env.MASTER_ADDR ?? "127.0.0.1",
    masterPort: int("MASTER_PORT", 1, 65535, 29500),
  };
}

/** The positions in a group of `n` micro-batches that rank `rank` of `world` runs: rank, rank + world, ... */
export function shareOf(n: number, rank: number, world: number): number[] {
  const out: number[] = [];
  for (let k = rank; k < n; k += world) out.push(k);
  return out;
}

/** A rank's process, to tell which one is gone when a collective fails. */
interface Peer {
  pid: number;
  host: number;
}

function hostKey(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export interface DataParallel {
  group: ProcessGroup;
  rank: number;
  worldSize: number;
  sync: GradientBuckets;
  peers: Peer[];
}

export interface JoinOptions {
  device: string;
  timeoutSeconds: number;
  bucketMb: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** Forms the group of `env` (every rank blocks until all have joined) and learns every rank's process. */
export function joinDataParallel(env: DistEnv, o: JoinOptions): DataParallel {
  const backend: Backend = o.device.startsWith("cuda") ? "nccl" : "gloo";
  const group = ProcessGroup.create({
    backend,
    rendezvous: { kind: "tcp", host: env.masterAddr, port: env.masterPort },
    rank: env.rank,
    worldSize: env.worldSize,
    timeoutSeconds: o.timeoutSeconds,
    ...(LOOPBACK.has(env.masterAddr) ? { glooHost: "127.0.0.1" } : {}),
  });
  const W = env.worldSize;
  const mine = new Float64Array(2 * W);
  mine[env.rank] = process.pid;
  mine[W + env.rank] = hostKey(hostname());
  const all = tensor(mine, { dtype: "float64", device: o.device });
  group.allReduce([all]).wait();
  const values = all.to("cpu").data() as Float64Array;
  all.dispose();
  const peers = Array.from({ length: W }, (_, r) => ({ pid: values[r]!, host: values[W + r]! }));
  return { group, rank: env.rank, worldSize: W, sync: new GradientBuckets(group, o.bucketMb * 2 ** 20, o.device), peers };
}

/** Copies rank 0's values into every rank's tensors (the weights of a fresh run). */
export function broadcastFromRank0(dp: DataParallel, tensors: Tensor[]): void {
  noGrad(() => dp.group.broadcast(tensors, 0).wait());
}

/** Raised when the ranks cannot go on together; the message names the rank that is gone where it can. */
export class DataParallelError extends Error {
  override name = "DataParallelError";
}

/** Whether process `pid` has ended: no such process, or a zombie its parent has not reaped yet. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The ranks on this host whose process has ended, looked for during up to a second (a peer may be exiting). */
function goneRanks(dp: DataParallel, here: number): string[] {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; attempt < 10; attempt++) {
    const gone = dp.peers.flatMap((p, r) => (r !== dp.rank && p.host === here && isGone(p.pid) ? [`rank ${r} (pid ${p.pid})`] : []));
    if (gone.length > 0) return gone;
    Atomics.wait(pause, 0, 0, 100);
  }
  return [];
}

/** `err` (a failed collective) with the ranks whose process is gone; other errors unchanged. */
export function explainFailure(dp: DataParallel, err: unknown): unknown {
  if (!(err instanceof CollectiveError)) return err;
  const here = hostKey(hostname());
  const remote = dp.peers.filter((p, r) => r !== dp.rank && p.host !== here).length;
  const gone = goneRanks(dp, here);
  const who = gone.length > 0
    ? `${gone.join(", ")} ${gone.length > 1 ? "are" : "is"} gone`
    : `no rank on this host is gone${remote > 0 ? ` (${remote} rank(s) run on other hosts)` : ""}; a rank may be stuck past --dist-timeout ${dp.group.timeoutSeconds} s`;
  return new DataParallelError(`rank ${dp.rank} of ${dp.worldSize} stops: ${who}: ${err.message}`);
}
