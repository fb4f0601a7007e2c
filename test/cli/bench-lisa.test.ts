// `nast bench lisa --json`: a row per engine, encoder, layer kind and length, with the profiler's per-operator
// times for onnxruntime (the numbers are measurements, never asserted; what the rows hold is).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNast } from "../helpers/cli.ts";

interface Rows {
  int8: boolean;
  rows: { engine: string; encoder: string; layer: string; frames: number; ms: number; operators?: Record<string, number> }[];
  notes?: string[];
}

const names = (out: Rows, engine: string) => out.rows.filter((x) => x.engine === engine).map((x) => `${x.encoder}/${x.layer}/${x.frames}`);

test("bench lisa --json --profile: full and LiSA rows of both encoders at each length, LiSA's with the alignment's MatMul, its GELU fused, and no Conv", () => {
  const r = runNast(["bench", "lisa", "--json", "--lengths", "8,20", "--repeat", "1", "--threads", "1", "--profile"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Rows;
  assert.equal(out.int8, false);
  assert.deepEqual(names(out, "onnxruntime"), ["acoustic/full/8", "acoustic/lisa/8", "acoustic/full/20", "acoustic/lisa/20", "textual/full/8", "textual/lisa/8", "textual/full/20", "textual/lisa/20"]);
  for (const row of out.rows) {
    assert.ok(row.ms > 0);
    const ops = row.operators!;
    assert.ok(Object.keys(ops).some((op) => op.includes("MatMul")), JSON.stringify(ops));
    assert.ok(!("Conv" in ops));
    // The LiSA layer evaluates the alignment's GELU as onnxruntime's one fused kernel (no Erf left); the full layer has none.
    if (row.layer === "lisa") assert.ok("Gelu" in ops && !("Erf" in ops), JSON.stringify(ops));
    else assert.ok(!("Gelu" in ops));
    // Only the full Conformer layer scores relative positions: the shift pads its (T, 2T−1) scores.
    assert.equal("Pad" in ops, row.encoder === "acoustic" && row.layer === "full", `${row.encoder} ${row.layer}: ${JSON.stringify(ops)}`);
  }
  assert.equal(runNast(["bench", "lisa", "--lengths", "0"]).code, 2);
  assert.equal(runNast(["bench", "lisa", "--engines", "onnx,tf"]).code, 2);
  const bad = runNast(["bench", "lisa", "--encoders", "decoder"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown encoder 'decoder'/);
});

test("bench lisa --int8 --encoders textual: the linear layers' products in integers, as the shipped package takes them", () => {
  const r = runNast(["bench", "lisa", "--json", "--int8", "--encoders", "textual", "--lengths", "8", "--repeat", "1", "--threads", "1", "--profile"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Rows;
  assert.equal(out.int8, true);
  assert.deepEqual(names(out, "onnxruntime"), ["textual/full/8", "textual/lisa/8"]);
  for (const row of out.rows) assert.ok("DynamicQuantizeMatMul" in row.operators!, JSON.stringify(row.operators));
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
  assert.deepEqual(names(out, "libtorch"), ["acoustic/full/8", "acoustic/lisa/8", "textual/full/8", "textual/lisa/8"]);
  for (const row of torch) assert.ok(row.ms > 0 && row.operators === undefined);
});
