// Child processes (argument arrays, never a shell) and a bounded pool of concurrent jobs: the corpus is
// made by external programs (apertium, espeak-ng, festival, flite, sox), so running several at once
// is how it uses all cores.
import { spawn } from "node:child_process";

/** Runs `work` over items with at most `jobs` in flight; rejects with the first error after all settle. */
export async function runPool<T>(items: readonly T[], jobs: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const lane = async () => {
    while (next < items.length && firstError === undefined) {
      const i = next++;
      try {
        await work(items[i] as T, i);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, lane));
  if (firstError !== undefined) throw firstError;
}

/** Spawns a program (argument array, no shell), writes `input` to its stdin, returns its stdout. */
export function runProcess(bin: string, args: string[], input: string | Buffer, env?: NodeJS.ProcessEnv): Promise<string> {
  return runProcessBytes(bin, args, input, env).then((b) => b.toString("utf8"));
}

export function runProcessBytes(bin: string, args: string[], input: string | Buffer, env?: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"], env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === "ENOENT" ? `${bin} not found: install it (see recipes/synthetic/README.md)` : `${bin}: ${e.message}`)),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${bin} ${args.slice(0, 6).join(" ")} failed (${signal ?? `exit ${code}`}): ${Buffer.concat(err).toString().trim().slice(0, 500)}`));
    });
    child.stdin.on("error", () => {}); // EPIPE when the program exits early; reported by "close"
    child.stdin.end(input);
  });
}
