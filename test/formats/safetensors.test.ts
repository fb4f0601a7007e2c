// The safetensors codec: the byte layout as the format describes it (header length, JSON header with
// offsets, little-endian data), truncation detected, F16 and BF16 tensors rounded to nearest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, f32Tensor, fromFloat64, toFloat64 } from "../../src/formats/safetensors.ts";

test("safetensors layout: u64 header length, JSON header with offsets, little-endian data", () => {
  const buf = encodeSafetensors(new Map([["a", f32Tensor(new Float32Array([1.5, -2]), [2])]]), { k: "v" });
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, "data aligned to 8 bytes");
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  assert.deepEqual(header.a, { dtype: "F32", shape: [2], data_offsets: [0, 8] });
  assert.deepEqual(header.__metadata__, { k: "v" });
  assert.equal(buf.readFloatLE(8 + n), 1.5);
  assert.equal(buf.readFloatLE(8 + n + 4), -2);
  const back = decodeSafetensors(buf, "mem");
  assert.deepEqual(Array.from(toFloat64(back.tensors.get("a")!)), [1.5, -2]);
  assert.throws(() => decodeSafetensors(buf.subarray(0, buf.length - 2), "cut.safetensors"), /cut\.safetensors.*truncated/);
});

test("half and bfloat16 conversions round to nearest", () => {
  const v = new Float64Array([0, 1, -2.5, 65504, 1e-7, 3.14159]);
  const h = toFloat64(fromFloat64(v, "F16", [6]));
  assert.deepEqual(Array.from(h.slice(0, 4)), [0, 1, -2.5, 65504]);
  assert.ok(Math.abs((h[5] as number) - 3.140625) < 1e-9);
  assert.ok(Math.abs((h[4] as number) - 1.1920928955078125e-7) < 1e-12, `subnormal ${h[4]}`);
  const b = toFloat64(fromFloat64(v, "BF16", [6]));
  assert.equal(b[5], 3.140625);
  assert.equal(b[2], -2.5);
});
