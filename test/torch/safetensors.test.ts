// safetensors: round trip through a file, a hand-crafted file in the reference layout, and bad files.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { decodeSafetensors, disposeAll, liveTensors, loadSafetensors, saveSafetensors, tensor, tidy, zeros } from "../../src/torch/index.ts";
import "./helpers.ts";

test("round trip keeps names, dtypes, shapes, values and metadata", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-st-"));
  const before = liveTensors();
  try {
    tidy(() => {
      const tensors = new Map([
        ["enc.w", tensor([[1.5, -2], [3, 4.25]])],
        ["enc.d", tensor([1e-300, 2], { dtype: "float64" })],
        ["ids", tensor([-1, 2 ** 40], { dtype: "int64" })],
        ["i32", tensor([7], { dtype: "int32" })],
        ["mask", tensor([true, false, true])],
        ["half", tensor([0.5, -8]).to("float16")],
        ["bf", tensor([1.5, 256]).to("bfloat16")],
        ["scalar", tensor(3)],
        ["empty", zeros([0, 4])],
      ]);
      const path = join(dir, "a.safetensors");
      saveSafetensors(path, tensors, { "nast.config": '{"d":1}' });
      const raw = readFileSync(path);
      const n = Number(raw.readBigUInt64LE(0));
      assert.equal((8 + n) % 8, 0, "payload starts 8-byte aligned");
      const header = JSON.parse(raw.subarray(8, 8 + n).toString("utf8"));
      assert.deepEqual(header["enc.w"], { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
      assert.deepEqual(header.__metadata__, { "nast.config": '{"d":1}' });
      const { tensors: back, metadata } = loadSafetensors(path);
      assert.deepEqual(metadata, { "nast.config": '{"d":1}' });
      assert.deepEqual([...back.keys()], [...tensors.keys()]);
      for (const [name, t] of tensors) {
        const u = back.get(name)!;
        assert.equal(u.dtype, t.dtype, name);
        assert.deepEqual(u.shape, t.shape, name);
        assert.deepEqual(u.data(), t.data(), name);
      }
      disposeAll(back);
    });
    assert.equal(liveTensors(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reads a hand-crafted file in the reference layout (any key order, padding, offsets out of order)", () =>
  tidy(() => {
    // payload: b (I64 [2]) at 0..16, a (F32 [2,1]) at 16..24, c (BOOL [3]) at 24..27
    const payload = Buffer.alloc(27);
    payload.writeBigInt64LE(-5n, 0);
    payload.writeBigInt64LE(9007199254740993n, 8);
    payload.writeFloatLE(0.25, 16);
    payload.writeFloatLE(-1, 20);
    payload.set([1, 0, 1], 24);
    const json =
      '{"a":{"dtype":"F32","shape":[2,1],"data_offsets":[16,24]},' +
      '"__metadata__":{"format":"pt"},' +
      '"c":{"shape":[3],"dtype":"BOOL","data_offsets":[24,27]},' +
      '"b":{"data_offsets":[0,16],"dtype":"I64","shape":[2]}}   ';
    const head = Buffer.from(json, "utf8");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    const { tensors, metadata } = decodeSafetensors(Buffer.concat([len, head, payload]), "hand.safetensors");
    assert.deepEqual(metadata, { format: "pt" });
    assert.deepEqual(tensors.get("a")!.shape, [2, 1]);
    assert.deepEqual(tensors.get("a")!.toArray(), [0.25, -1]);
    assert.deepEqual(tensors.get("b")!.data(), new BigInt64Array([-5n, 9007199254740993n]));
    assert.equal(tensors.get("c")!.dtype, "bool");
    assert.deepEqual(tensors.get("c")!.toArray(), [1, 0, 1]);
  }));

test("bad files are errors naming the file and the problem", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-st-"));
  try {
    const path = join(dir, "bad.safetensors");
    writeFileSync(path, Buffer.from([1, 2, 3]));
    assert.throws(() => loadSafetensors(path), new RegExp(`${path}: not a valid safetensors file: shorter than 8 bytes`));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(1000n);
    writeFileSync(path, Buffer.concat([len, Buffer.from("{}")]));
    assert.throws(() => loadSafetensors(path), /header length 1000 exceeds the file/);
    const head = Buffer.from('{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}');
    len.writeBigUInt64LE(BigInt(head.length));
    const before = liveTensors();
    writeFileSync(path, Buffer.concat([len, head, Buffer.alloc(8)]));
    assert.throws(() => loadSafetensors(path), /tensor "x" has offsets \[0, 8\] for 16 bytes/);
    assert.equal(liveTensors(), before);
    const weird = Buffer.from('{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}');
    len.writeBigUInt64LE(BigInt(weird.length));
    writeFileSync(path, Buffer.concat([len, weird, Buffer.alloc(8)]));
    assert.throws(() => loadSafetensors(path), /unsupported dtype C64/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
