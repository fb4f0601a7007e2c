// The one way tests start the `nast` command line: from the source tree (tsx), as a user would run it.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** tsx's loader by path, so that the command also starts from a working directory outside the repository. */
const TSX = pathToFileURL(join(REPO_ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/** The node arguments that run `nast ARGS`. */
export function nastArgv(args: readonly string[]): string[] {
  return ["--import", TSX, join(REPO_ROOT, "src/cli/main.ts"), ...args];
}

/** `nast` as one shell word list, for recipes that take the command in $NAST. */
export const NAST_COMMAND = `${process.execPath} ${nastArgv([]).join(" ")}`;

let cacheHome: string | undefined;

/**
 * `env` (default: this process's) with the cache of optimized graphs (src/infer/session-cache.ts) in a temporary
 * directory of this test process, so that tests neither read nor fill the user's ~/.cache; an env that says
 * where the cache is, or that there is none, is kept as it is.
 */
export function testEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.XDG_CACHE_HOME !== undefined || env.NAST_NO_CACHE !== undefined) return env;
  if (cacheHome === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "nast-test-cache-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    cacheHome = dir;
  }
  return { ...env, XDG_CACHE_HOME: cacheHome };
}

export interface CliRun {
  /** Exit status; -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** `nast ARGS`, waited for, with `input` on standard input. */
export function runNast(args: string[], input?: string | Buffer, opts: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, nastArgv(args), {
    cwd: opts.cwd ?? REPO_ROOT,
    input,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: testEnv(opts.env),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `nast ARGS` started and not waited for (a test that signals or kills it). */
export function startNast(args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, nastArgv(args), { cwd: REPO_ROOT, ...opts, env: testEnv(opts.env) });
}
