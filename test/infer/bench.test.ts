// `nast bench infer --json`: one row per preset × engine × batch setting, with consistent fields (the
// numbers themselves are measurements, never asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNast } from "../helpers/cli.ts";

test("bench infer --json: rows for every engine (float32 and int8 onnxruntime, libtorch) at batch 1 and batched, shares within the wall time", () => {
  const r = runNast(
    ["bench", "infer", "--json", "--presets", "tiny", "--seconds", "4", "--batch", "4", "--repeat", "1", "--threads", "1", "--engines", "onnx,onnx-int8,torch"],
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.notes, []);
  assert.deepEqual(
    out.rows.map((x: { preset: string; engine: string; batch: number }) => `${x.preset}/${x.engine}/${x.batch}`),
    ["tiny/onnxruntime/1", "tiny/onnxruntime/4", "tiny/onnxruntime-int8/1", "tiny/onnxruntime-int8/4", "tiny/libtorch/1", "tiny/libtorch/4"],
  );
  for (const row of out.rows) {
    assert.ok(row.segments >= 1 && row.audioSeconds === 4);
    assert.ok(Math.abs(row.realTimeFactor - row.seconds / row.audioSeconds) < 1e-3);
    const shares = Object.values(row.share) as number[];
    assert.ok(shares.every((x) => x >= 0) && shares.reduce((a, b) => a + b, 0) <= 1.001, JSON.stringify(row.share));
  }
  // Same weights and audio: every engine cuts the audio into the same segments.
  assert.equal(new Set(out.rows.map((x: { segments: number }) => x.segments)).size, 1);
});
