// The protobuf writer (wire-format bytes checked by hand against the encoding rules), the one reader that
// SentencePiece and ONNX files are walked with, the reader of ONNX model headers used by translate (round trip, truncation detected), and the initializer reader of
// `nast train --init`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtoError, ProtoReader, ProtoWriter } from "../../src/formats/protobuf.ts";
import { modelProto } from "../../src/formats/onnx-proto.ts";
import { GraphBuilder } from "../../src/export/graph.ts";
import { encodeHalf } from "../../src/formats/float16.ts";
import { readOnnxInfo, OnnxFormatError } from "../../src/formats/onnx-info.ts";
import { readOnnxWeights } from "../../src/export/onnx-weights.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("varints, negative int64, floats, strings and nested messages", () => {
  const bytes = (w: ProtoWriter): number[] => Array.from(w.toBuffer());
  assert.deepEqual(bytes(new ProtoWriter().int(1, 150)), [0x08, 0x96, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().int(2, 0)), [0x10, 0x00]);
  assert.deepEqual(bytes(new ProtoWriter().int(1, -1)), [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().int(1, 2n ** 40n)), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  assert.deepEqual(bytes(new ProtoWriter().float(2, 1.5)), [0x15, 0x00, 0x00, 0xc0, 0x3f]);
  assert.deepEqual(bytes(new ProtoWriter().string(3, "hé")), [0x1a, 0x03, 0x68, 0xc3, 0xa9]);
  assert.deepEqual(bytes(new ProtoWriter().packedInts(1, [3, 270])), [0x0a, 0x03, 0x03, 0x8e, 0x02]);
  const inner = new ProtoWriter().int(1, 1).bytesField(2, new Uint8Array(100).fill(7));
  const outer = bytes(new ProtoWriter().message(4, inner).int(5, 1));
  assert.deepEqual(outer.slice(0, 3), [0x22, 104, 0x08]);
  assert.equal(outer.length, 2 + 104 + 2);
  assert.deepEqual(outer.slice(-2), [0x28, 0x01]);
});

test("the reader reads int64 varints exactly, int32 ones by proto2's low 32 bits, and refuses truncation", () => {
  const read = (w: ProtoWriter): ProtoReader => {
    const r = new ProtoReader(new Uint8Array(w.toBuffer()));
    r.key();
    return r;
  };
  // An ONNX dim beyond 32 bits, and SentencePiece's pad_id = -1 written as a 10-byte varint.
  assert.equal(read(new ProtoWriter().int(1, 2n ** 40n)).varint(), 2 ** 40);
  assert.equal(read(new ProtoWriter().int(1, -1)).int32(), -1);
  assert.equal(read(new ProtoWriter().int(1, 150)).int32(), 150);
  const nested = new ProtoReader(new Uint8Array(new ProtoWriter().message(4, new ProtoWriter().string(1, "hé").float(2, 1.5)).toBuffer()));
  assert.deepEqual(nested.key(), [4, 2]);
  const inner = nested.message();
  assert.ok(nested.done);
  inner.key();
  assert.equal(inner.string(), "hé");
  inner.key();
  assert.equal(inner.float32(), 1.5);
  assert.ok(inner.done);
  const whole = new Uint8Array(new ProtoWriter().string(3, "abcdef").toBuffer());
  assert.throws(() => new ProtoReader(whole, 0, whole.length - 1).skip((new ProtoReader(whole).key())[1]), ProtoError);
  const cut = new ProtoReader(whole, 0, whole.length - 1);
  cut.key();
  assert.throws(() => cut.bytes(), /truncated/);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x80)).varint(), /truncated varint/);
  assert.throws(() => new ProtoReader(new Uint8Array(11).fill(0xff)).varint(), /longer than 10 bytes/);
});

test("messages(field) yields each length-delimited field of that number in order and skips every other field", () => {
  const inner = (n: number) => new ProtoWriter().int(1, n);
  const bytes = new ProtoWriter().message(3, inner(7)).int(3, 99).string(2, "other").message(3, inner(8)).float(5, 1.5).message(4, inner(9)).toBuffer();
  const seen = [...new ProtoReader(bytes).messages(3)].map((m) => {
    const [f, w] = m.key();
    assert.deepEqual([f, w], [1, 0]);
    return m.varint();
  });
  assert.deepEqual(seen, [7, 8], "field 3 as a varint (wire 0) is not a message and is skipped");
  const cut = new ProtoWriter().message(3, inner(7)).message(3, inner(300)).toBuffer();
  assert.throws(() => [...new ProtoReader(cut, 0, cut.length - 1).messages(3)], ProtoError);
});

test("readOnnxInfo reads back metadata, inputs and output shapes; truncation is detected", () => {
  const g = new GraphBuilder();
  const x = g.input("feats", "float32", ["B", "T", 80]);
  g.output(g.op("Relu", [x], {}, "float32"), "y", ["B", "T", 80]);
  const bytes = Buffer.concat(modelProto(g.model({ graphName: "g", metadata: { "nast.config": '{"a":1}', other: "x" }, producerVersion: "t" })));
  const info = readOnnxInfo(bytes);
  assert.equal(info.irVersion, 8);
  assert.deepEqual(info.metadata, { "nast.config": '{"a":1}', other: "x" });
  assert.deepEqual(info.inputs, ["feats"]);
  assert.deepEqual(info.outputs, [{ name: "y", dims: ["B", "T", 80] }]);
  for (const cut of [10, Math.floor(bytes.length / 2), bytes.length - 3]) {
    assert.throws(() => readOnnxInfo(bytes.subarray(0, cut)), OnnxFormatError, `cut at ${cut}`);
  }
  assert.throws(() => readOnnxInfo(Buffer.from("hello world, not a model")), OnnxFormatError);
});

test("readOnnxWeights reads initializers back (float16 ones widened under their own name); garbage is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-onnx-weights-"));
  try {
    const g = new GraphBuilder();
    const x = g.input("feats", "float32", ["B", 3]);
    const w = Float32Array.from([0.5, -1.25, 3, 1e-3, 65504, -0]);
    const half = encodeHalf(w);
    const a = g.initializer("layer.weight", "float32", [3, 2], new Uint8Array(w.buffer));
    const b = g.initializer("other.weight.fp16", "float16", [2, 3], new Uint8Array(half.buffer));
    const y = g.op("MatMul", [x, a], {}, "float32");
    g.output(g.op("Add", [y, g.op("Cast", [b], { to: 1 }, "float32")], {}, "float32"), "y", ["B", 2]);
    const path = join(dir, "model.onnx");
    writeFileSync(path, Buffer.concat(modelProto(g.model({ graphName: "g", metadata: { "nast.config": "{}" }, producerVersion: "t" }))));
    const got = readOnnxWeights(path);
    assert.deepEqual(got.metadata, { "nast.config": "{}" });
    const layer = got.tensors.get("layer.weight")!;
    assert.deepEqual([layer.dtype, layer.shape], ["float32", [3, 2]]);
    assert.deepEqual(Array.from(new Float32Array(layer.data.buffer)), Array.from(w));
    const other = got.tensors.get("other.weight")!;
    assert.deepEqual([other.dtype, other.shape], ["float32", [2, 3]]);
    assert.deepEqual(Array.from(new Float32Array(other.data.buffer)), [0.5, -1.25, 3, 0.0010004043579101562, 65504, -0]);
    const bad = join(dir, "bad.onnx");
    writeFileSync(bad, Buffer.from("not a protobuf at all, just text\n"));
    assert.throws(() => readOnnxWeights(bad), (e: Error) => e instanceof OnnxFormatError && e.message.startsWith(`${bad}: not a model written by nast export`));

    // An int8 weight without its scale (a package not written by nast export --int8) is refused by name.
    const h = new GraphBuilder();
    const q = h.initializer("fc.weight.int8", "int8", [3, 2], new Uint8Array(6));
    h.output(h.op("Cast", [q], { to: 1 }, "float32"), "y", [3, 2]);
    const noScale = join(dir, "no-scale.onnx");
    writeFileSync(noScale, Buffer.concat(modelProto(h.model({ graphName: "g", metadata: { "nast.config": "{}" }, producerVersion: "t" }))));
    assert.throws(() => readOnnxWeights(noScale), (e: Error) => e instanceof OnnxFormatError && /no-scale\.onnx: .*'fc\.weight\.int8' is not an int8 weight with its 'fc\.weight\.scale'/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
