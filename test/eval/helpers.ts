// Shared by the metric tests: run `nast score` as a user would (a child process on real files).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNast } from "../helpers/cli.ts";
import { fileURLToPath } from "node:url";

// Every directory writeFiles made, removed when the test process exits (one listener for all of them).
const made: string[] = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory holding the given files, removed when the test process exits. */
export function writeFiles(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "nast-score-"));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `nast score ARGS` in `cwd` with `stdin` as standard input. */
export function nastScore(args: string[], cwd: string, stdin = ""): CliResult {
  const r = runNast(["score", ...args], stdin, { cwd, env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** The sacreBLEU vectors (test/vectors/README.md). */
export const VECTORS_PATH = fileURLToPath(new URL("../vectors/sacrebleu-vectors.json", import.meta.url));

/** Scores computed by the real sacreBLEU 2.6.0 on es/de/ru/zh/en cases (fixtures/, made by its generator). */
export const CASES_PATH = fileURLToPath(new URL("./fixtures/sacrebleu-2.6.0-cases.json", import.meta.url));
