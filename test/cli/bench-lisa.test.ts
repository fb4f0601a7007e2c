// `nast bench lisa --json`: a row per engine, layer kind and length, with the profiler's per-operator times
// for onnxruntime (the numbers are measurements, never asserted; what the rows hold is).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNast } from "../helpers/cli.ts";

interface Rows {
  rows: { engine: string; layer: string; frames: number; ms: number; operators?: Record<string, number> }[];
  notes?: string[];
}

test("bench lisa --json --profile: full and LiSA rows at each length, LiSA's with the alignment's MatMul, its GELU fused, and no Conv", () => {
  const r = runNast(["bench", "lisa", "--json", "--lengths", "8,20", "--repeat", "1", "--threads", "1", "--profile"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Rows;
  assert.deepEqual(out.rows.map((x) => `${x.engine}/${x.layer}/${x.frames}`), ["onnxruntime/full/8", "onnxruntime/full/20", "onnxruntime/lisa/8", "onnxruntime/lisa/20"]);
  for (const row of out.rows) {
    assert.ok(row.ms > 0);
    assert.ok(Object.keys(row.operators!).some((op) => op.includes("MatMul")), JSON.stringify(row.operators));
    assert.ok(!("Conv" in row.operators!));
  }
  // The LiSA layer evaluates the alignment's GELU as onnxruntime's one fused kernel (no Erf left); the full layer has none.
  const lisa = out.rows[2]!.operators!;
  assert.ok("Gelu" in lisa && !("Erf" in lisa), JSON.stringify(lisa));
  assert.ok(!("Gelu" in out.rows[0]!.operators!));
  assert.equal(runNast(["bench", "lisa", "--lengths", "0"]).code, 2);
  assert.equal(runNast(["bench", "lisa", "--engines", "onnx,tf"]).code, 2);
});

test("bench lisa --engines onnx,torch: libtorch rows for the same layers and lengths (or a note when the kernels are missing)", () => {
  const r = runNast(["bench", "lisa", "--json", "--engines", "onnx,torch", "--lengths", "8", "--repeat", "1", "--threads", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Rows;
  const torch = out.rows.filter((x) => x.engine === "libtorch");
  if (torch.length === 0) {
    assert.match(out.notes?.join("\n") ?? "", /libtorch rows skipped/);
    return;
  }
  assert.deepEqual(torch.map((x) => `${x.layer}/${x.frames}`), ["full/8", "lisa/8"]);
  for (const row of torch) assert.ok(row.ms > 0 && row.operators === undefined);
});
