// Runs the `nast` command line from the source tree (tsx), as the CLI tests of every area do.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  /** Exit status; -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/** `nast ARGS` in the repository root, with `input` on standard input. */
export function runNast(args: string[], input?: string | Buffer): CliRun {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args], {
    cwd: REPO_ROOT,
    input,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
