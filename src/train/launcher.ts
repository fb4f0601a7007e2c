// `--nproc N`: runs N copies of the same nast command, one per rank, with the variables torchrun sets (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; src/train/data-parallel.ts reads them). When one exits with
// a failure, the others are given a few seconds to find the dead peer at their next collective and say so
// themselves, then stopped (SIGTERM, then SIGKILL after a grace period), and the launcher exits with that
// failure, saying which rank it was. Unless OMP_NUM_THREADS is set, each rank gets cores / N threads. SIGINT/SIGTERM are passed on to every rank, which stop together after
// the same update. The ranks run in their own process group, so that a terminal's Ctrl-C reaches them once,
// through the launcher; a rank whose launcher is gone (its stdin pipe closed) exits.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";

/** Set in each rank's environment; watchLauncher() exits a rank whose launcher is gone. */
const LAUNCHED = "NAST_LAUNCHED";

/** A TCP port free on the loopback now (the store's; taken by rank 0 right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LaunchOptions {
  /** The command's arguments after the node script, without --nproc. */
  args: string[];
  nproc: number;
  /**
   * Seconds the other ranks have, after a rank failed, to exit by themselves: their next all-reduce fails on
   * the closed connection and names the rank that is gone, which a SIGTERM at once would often pre-empt (it
   * did under load: the survivor stopped on the signal and said nothing).
   */
  noticeSeconds?: number;
  /** Seconds between the SIGTERM to the other ranks and their SIGKILL, after a rank failed. */
  graceSeconds?: number;
  log?: (line: string) => void;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
}

/** Runs the ranks; resolves with the exit status for the launcher (0: every rank exited with 0). */
export async function launchRanks(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const port = process.env.MASTER_PORT ? Number(process.env.MASTER_PORT) : await freePort();
  const addr = process.env.MASTER_ADDR ?? "127.0.0.1";
  const notice = (o.noticeSeconds ?? 5) * 1000;
  const grace = (o.graceSeconds ?? 10) * 1000;
  // As torchrun does: the ranks share the cores instead of each taking all of them (--threads still decides).
  const threads = process.env.OMP_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / o.nproc)));
  const children: ChildProcess[] = [];
  let failure: { rank: number; status: number } | null = null;
  let signalled: NodeJS.Signals | null = null;
  let killTimer: NodeJS.Timeout | null = null;

  const stopOthers = (except: number, signal: NodeJS.Signals) => {
    children.forEach((c, r) => {
      if (r !== except && c.exitCode === null && c.signalCode === null) c.kill(signal);
    });
  };
  const exits = Array.from({ length: o.nproc }, (_, rank) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...o.args], {
      stdio: ["pipe", "inherit", "inherit"],
      detached: true,
      env: { ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(o.nproc), MASTER_ADDR: addr, MASTER_PORT: String(port), OMP_NUM_THREADS: threads, [LAUNCHED]: "1" },
    });
    children.push(child);
    return new Promise<void>((resolve) => {
      child.on("error", (err) => {
        log(`nast: rank ${rank} could not start: ${err.message}`);
        failure ??= { rank, status: 1 };
        stopOthers(rank, "SIGTERM");
        resolve();
      });
      child.on("exit", (code, signal) => {
        if ((code !== 0 || signal !== null) && failure === null && signalled === null) {
          failure = { rank, status: code !== null && code !== 0 ? code : 1 };
          log(`nast: rank ${rank} (pid ${child.pid}) ${describeExit(code, signal)}; stopping the other ${o.nproc - 1} rank(s)`);
          killTimer = setTimeout(() => {
            stopOthers(rank, "SIGTERM");
            killTimer = setTimeout(() => stopOthers(rank, "SIGKILL"), grace);
            killTimer.unref();
          }, notice);
          killTimer.unref();
        }
        resolve();
      });
    });
  });
  const onSignal = (signal: NodeJS.Signals) => {
    signalled ??= signal;
    stopOthers(-1, signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await Promise.all(exits);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (killTimer) clearTimeout(killTimer);
  }
  if (failure !== null) return (failure as { status: number }).status;
  const bad = children.find((c) => c.exitCode !== 0);
  if (bad) return bad.exitCode ?? 1;
  return 0;
}

/** In a rank started by launchRanks: exits (status 1) when the launcher is gone, which closes our stdin. */
export function watchLauncher(): void {
  if (process.env[LAUNCHED] !== "1") return;
  const stdin = process.stdin;
  stdin.on("end", () => {
    process.stderr.write(`nast: rank ${process.env.RANK}: the launcher (nast ... --nproc) is gone; exiting\n`);
    process.exit(1);
  });
  stdin.resume();
  (stdin as unknown as { unref?: () => void }).unref?.();
}
