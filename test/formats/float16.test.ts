// float16 and bfloat16 conversion: fp16 feature storage against numpy's float16 conversion (round to nearest even).
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { encodeHalf, fromBfloat16Bits, halfTable, toBfloat16Bits, toHalfBits } from "../../src/formats/float16.ts";

test("float32 → float16 bits equal numpy's astype(float16), and back", () => {
  const values: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, Infinity, -Infinity, NaN];
  // Halfway cases between adjacent halves, log-mel-like values, tiny values.
  for (let i = 0; i < 200; i++) values.push(1 + (2 * i + 1) / 2048, -(12 + i / 64), Math.fround(Math.sin(i) * 30), Math.fround(Math.cos(i) * 1e-5));
  const f32 = Float32Array.from(values);
  const ours = Array.from(f32, (v) => toHalfBits(v));
  const script = "import sys, numpy as np; a = np.frombuffer(sys.stdin.buffer.read(), dtype='<f4'); print(' '.join(str(int(x)) for x in a.astype('<f2').view('<u2')))";
  const numpy = execFileSync("python3", ["-c", script], { input: Buffer.from(f32.buffer) }).toString().trim().split(" ").map(Number);
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) assert.equal((ours[i]! & 0x7c00) === 0x7c00 && (ours[i]! & 0x3ff) !== 0, true);
    else assert.equal(ours[i], numpy[i], `value ${f32[i]}`);
  }
  const t = halfTable();
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    const back = t[ours[i]!]!;
    if (Number.isFinite(back) && Math.abs(f32[i]!) < 65504) assert.ok(Math.abs(back - f32[i]!) <= Math.abs(f32[i]!) * 2 ** -11 + 2 ** -25, `${f32[i]} → ${back}`);
  }
});

test("float16 conversion rounds to nearest even, saturates to infinity and keeps subnormals", () => {
  const v = Float32Array.from([0, -0, 1, -2.5, 65504, 65520, 1e-8, 6.1035156e-5, 5.96e-8, 0.1, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
  const h = encodeHalf(v);
  assert.deepEqual(Array.from(h), [0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x7c00, 0x0000, 0x0400, 0x0001, 0x2e66, 0x3c00, 0x3c02]);
});

test("bfloat16 bits round to nearest even and keep NaN quiet", () => {
  // 1 + 2^-8 lies halfway between bfloat16 1 and 1 + 2^-7: even wins; just above it rounds up.
  assert.deepEqual([1, -2.5, 1 + 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 3.14159, Infinity, NaN].map(toBfloat16Bits), [0x3f80, 0xc020, 0x3f80, 0x3f81, 0x4049, 0x7f80, 0x7fc0]);
  assert.deepEqual([0x3f80, 0xc020, 0x4049].map(fromBfloat16Bits), [1, -2.5, 3.140625]);
});
