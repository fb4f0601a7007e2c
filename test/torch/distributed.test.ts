// c10d through the binding (src/torch/distributed.ts): two Gloo processes on this machine, rendezvous over a file
// store: every collective gives the values torch.distributed defines, and a collective that a peer never joins
// fails after the group's timeout instead of hanging.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { distributedBackends } from "../../src/torch/distributed.ts";
import { assertClose } from "./helpers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "nast-c10d-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface RankRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rank(scenario: string, r: number, world: number, store: string, timeout: number): Promise<RankRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "test/helpers/collective-rank.ts"), scenario, String(r), String(world), store, String(timeout)], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

function result(r: RankRun): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

test("the CPU build has Gloo", () => {
  assert.ok(distributedBackends().includes("gloo"), `backends: ${distributedBackends().join(", ")}; install libgloo-dev and rebuild`);
});

test("two Gloo ranks: all-reduce sum, avg and max in place, broadcast from the last rank, barrier", async () => {
  const store = join(scratch, "ops");
  const runs = await Promise.all([0, 1].map((r) => rank("ops", r, 2, store, 30)));
  for (const run of runs) {
    const out = result(run) as Record<string, number[]>;
    assert.deepEqual(out.sum, [3, 30, -1]);
    assertClose(out.wide!, [1 / 3 + 1 / 3 + 1, 1e-12], 1e-15, "float64 sum");
    assert.deepEqual(out.avg, [0.5, 1]);
    assert.deepEqual(out.max, [1, 0]);
    assert.deepEqual(out.broadcast, [1, 7]);
  }
});

test("a collective that a peer never joins fails after the timeout, naming what failed", async () => {
  const store = join(scratch, "stall");
  const [first] = await Promise.all([0, 1].map((r) => rank("stall", r, 2, store, 1)));
  const out = result(first!);
  assert.equal(out.collective, true, String(out.error));
  assert.match(String(out.error), /^all-reduce of 1 tensor\(s\) on rank 0 failed: .*(time|Timed out)/i);
  assert.ok((out.seconds as number) >= 0.9 && (out.seconds as number) < 3, `failed after ${out.seconds} s`);
});
