// The project's .npmrc must hold only keys npm knows: npm 11 prints a warning for any other key on every
// `npm`/`npx` run (README's `npx nast translate` included), and the CUDA download of onnxruntime-node's
// install script (from NuGet, unreachable offline) must stay off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/cli.ts";

test("npm reads the project's .npmrc without a warning, and install scripts stay off", () => {
  const run = spawnSync("npm", ["pkg", "get", "name"], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), '"nast"');
  assert.doesNotMatch(run.stderr, /warn/i);
  const config = spawnSync("npm", ["config", "get", "ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(config.stdout.trim(), "true", "onnxruntime-node's postinstall would try to download CUDA binaries");
});

test("package.json has no lifecycle script that ignore-scripts would silently skip", () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  for (const name of ["preinstall", "install", "postinstall", "prepare", "prepublish", "pretest", "posttest", "prebuild"]) {
    assert.equal(scripts[name], undefined, `package.json script "${name}" would not run under ignore-scripts`);
  }
});
