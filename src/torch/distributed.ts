// torch.distributed's engine (c10d, inside libtorch) through the binding: a process group formed over a TCP or
// file store, and in-place collectives on tensors. Collectives are asynchronous: each returns a Work that
// must be waited on before the tensors are read. Gloo runs on CPU tensors, NCCL on CUDA tensors.
import { native } from "./native.ts";
import { noGrad } from "./runtime.ts";
import { callVoid, type Tensor } from "./tensor.ts";

export type Backend = "gloo" | "nccl";

/** Where the ranks meet: rank 0 serves a TCP store at host:port, or all share a file on a common filesystem. */
export type Rendezvous = { kind: "tcp"; host: string; port: number } | { kind: "file"; path: string };

export interface GroupOptions {
  backend: Backend;
  rendezvous: Rendezvous;
  rank: number;
  worldSize: number;
  /** How long forming the group and each collective may take before it fails. */
  timeoutSeconds: number;
  /** Gloo: the address its connections bind to (default: what the host name resolves to). */
  glooHost?: string;
}

/** A collective failed: a peer is gone, or it did not complete within the group's timeout. */
export class CollectiveError extends Error {
  override name = "CollectiveError";
}

/** The backends this build of the kernels has. */
export function distributedBackends(): Backend[] {
  return native().distBackends() as Backend[];
}

/** Started collectives; wait() blocks until they are done (or throws their failure). */
export class Work {
  #id: number | null;

  constructor(
    id: number | null,
    private readonly what: string,
    private readonly timeoutMs: number,
    /** Runs once the collectives are done (the division of an average). */
    private readonly finish: (() => void) | null = null,
  ) {
    this.#id = id;
  }

  wait(): void {
    const id = this.#id;
    if (id === null) return;
    this.#id = null;
    try {
      native().distWait(id, this.timeoutMs);
    } catch (err) {
      throw new CollectiveError(`${this.what} failed: ${(err as Error).message.replace(/^distWait: /, "")}`);
    }
    this.finish?.();
  }
}

export class ProcessGroup {
  readonly backend: Backend;
  readonly rank: number;
  readonly worldSize: number;
  readonly timeoutSeconds: number;
  #id: number | null;

  private constructor(id: number, o: GroupOptions) {
    this.#id = id;
    this.backend = o.backend;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.timeoutSeconds = o.timeoutSeconds;
  }

  /** Forms the group: blocks until every rank has joined, or throws after the timeout. */
  static create(o: GroupOptions): ProcessGroup {
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new RangeError(`world size must be a positive integer, got ${o.worldSize}`);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) throw new RangeError(`rank must be in 0..${o.worldSize - 1}, got ${o.rank}`);
    const have = distributedBackends();
    if (!have.includes(o.backend)) {
      const why = o.backend === "gloo" ? "install the gloo headers (Debian: apt-get install libgloo-dev)" : "build against a CUDA PyTorch with NCCL";
      throw new Error(`this build of the kernels has no ${o.backend} (it has: ${have.join(", ") || "none"}); ${why} and run npm run build:kernels again`);
    }
    const r = o.rendezvous;
    const where = r.kind === "tcp" ? `tcp://${r.host}:${r.port}` : `file://${r.path}`;
    try {
      const id = native().distInit(o.backend, r.kind, r.kind === "tcp" ? r.host : r.path, r.kind === "tcp" ? r.port : 0, o.rank, o.worldSize, Math.round(o.timeoutSeconds * 1000), o.glooHost ?? "");
      return new ProcessGroup(id, o);
    } catch (err) {
      throw new CollectiveError(`rank ${o.rank} of ${o.worldSize} could not form the ${o.backend} group at ${where}: ${(err as Error).message.replace(/^distInit: /, "")}`);
    }
  }

  private id(what: string): number {
    if (this.#id === null) throw new Error(`${what}: the process group was destroyed`);
    return this.#id;
  }

  // The waits of Gloo work time out on the CPU; an NCCL wait only orders the streams (no CPU stall), and the
  // group's own watchdog enforces its timeout.
  private work(id: number | null, what: string, finish: (() => void) | null = null): Work {
    return new Work(id, what, this.backend === "gloo" ? Math.round(this.timeoutSeconds * 1000) : 0, finish);
  }

  /**
   * Starts summing (or, "avg", averaging; or taking the maximum of) each tensor over the ranks, in place. The
   * tensors must be contiguous. The average divides the sum once it is waited for (Gloo has no average).
   */
  allReduce(tensors: Tensor[], op: "sum" | "avg" | "max" = "sum"): Work {
    const what = `all-reduce of ${tensors.length} tensor(s) on rank ${this.rank}`;
    if (tensors.length === 0) return this.work(null, what);
    const id = native().distAllReduce(this.id(what), tensors.map((t) => t.handle("allReduce")), op === "max" ? "max" : "sum");
    const n = this.worldSize;
    return this.work(id, what, op === "avg" ? () => noGrad(() => tensors.forEach((t) => callVoid("aten::div_.Scalar", t, n))) : null);
  }

  /** Starts copying rank `root`'s tensors into every rank's, in place. */
  broadcast(tensors: Tensor[], root = 0): Work {
    const what = `broadcast of ${tensors.length} tensor(s) from rank ${root}`;
    if (tensors.length === 0) return this.work(null, what);
    return this.work(native().distBroadcast(this.id(what), tensors.map((t) => t.handle("broadcast")), root), what);
  }

  /** Blocks until every rank has reached the barrier. */
  barrier(): void {
    const what = `barrier on rank ${this.rank}`;
    this.work(native().distBarrier(this.id(what)), what).wait();
  }

  /** Leaves the group; its collectives can no longer be used. */
  destroy(): void {
    if (this.#id === null) return;
    native().distDestroy(this.#id);
    this.#id = null;
  }
}
