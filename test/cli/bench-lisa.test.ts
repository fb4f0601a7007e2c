// `nast bench lisa --json`: a row per layer kind and length, with the profiler's per-operator times (the
// numbers are measurements, never asserted; what the rows hold is).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNast } from "../helpers/cli.ts";

test("bench lisa --json --profile: full and LiSA rows at each length, LiSA's with the alignment's MatMul and no Conv", () => {
  const r = runNast(["bench", "lisa", "--json", "--lengths", "8,20", "--repeat", "1", "--threads", "1", "--profile"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { rows: { layer: string; frames: number; ms: number; operators: Record<string, number> }[] };
  assert.deepEqual(out.rows.map((x) => `${x.layer}/${x.frames}`), ["full/8", "full/20", "lisa/8", "lisa/20"]);
  for (const row of out.rows) {
    assert.ok(row.ms > 0);
    assert.ok(Object.keys(row.operators).some((op) => op.includes("MatMul")), JSON.stringify(row.operators));
    assert.ok(!("Conv" in row.operators));
  }
  // The LiSA layer evaluates the alignment's GELU (Erf); the full layer has none.
  assert.ok("Erf" in out.rows[2]!.operators && !("Erf" in out.rows[0]!.operators));
  assert.equal(runNast(["bench", "lisa", "--lengths", "0"]).code, 2);
});
