// Hostile model packages: `nast translate -m DIR` must read nothing but the package's own regular files and
// must not let onnxruntime open any other file. A model.onnx whose tensors keep their values in an external
// file (an absolute path or ../..), a file replaced by a symbolic link (to a copy outside the package, or to
// /dev/zero), a directory in a file's place, and files of absurd size are refused with an error naming the file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelPackage, ModelPackageError } from "../../src/formats/model-package.ts";
import { OnnxFormatError } from "../../src/formats/onnx-info.ts";
import { readOnnxWeights } from "../../src/export/onnx-weights.ts";
import { ProtoWriter } from "../../src/formats/protobuf.ts";
import { runNast } from "../helpers/cli.ts";
import { tinyModelPackage } from "../infer/fixtures.ts";

const EXAMPLE_WAV = new URL("../../models/default/example.wav", import.meta.url).pathname;
let work: string;
let model: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "nast-hostile-"));
  model = tinyModelPackage(join(work, "fixture")).dir;
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the good package under `name`. */
function copy(name: string): string {
  const dir = join(work, name);
  cpSync(model, dir, { recursive: true });
  return dir;
}

/** A TensorProto (ONNX fields: dims 1, data_type 2, name 8, raw_data 9, external_data 13, data_location 14). */
function externalTensor(name: string, location: string, withRaw = false): ProtoWriter {
  const t = new ProtoWriter().packedInts(1, [2]).int(2, 1).string(8, name);
  if (withRaw) t.bytesField(9, new Uint8Array(8));
  t.message(13, new ProtoWriter().string(1, "location").string(2, location));
  t.message(13, new ProtoWriter().string(1, "length").string(2, "8"));
  return t.int(14, 1);
}

/**
 * model.onnx with one more ModelProto.graph field appended: protobuf merges repeated occurrences of a message
 * field, so onnxruntime reads the extra initializer or node as part of the model's graph.
 */
function appendToGraph(dir: string, graphFields: ProtoWriter): void {
  const path = join(dir, "model.onnx");
  writeFileSync(path, Buffer.concat([readFileSync(path), new ProtoWriter().message(7, graphFields).toBuffer()]));
}

function refused(dir: string, pattern: RegExp): void {
  assert.throws(
    () => loadModelPackage(dir),
    (err: Error) => {
      assert.ok(err instanceof ModelPackageError, `a ModelPackageError, not ${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test("the fixture package itself loads", () => {
  assert.equal(loadModelPackage(model).cfg.vocabSize, 64);
});

test("an initializer with external data (an absolute path, ../..) is refused, naming model.onnx and the tensor", () => {
  const abs = copy("external-abs");
  appendToGraph(abs, new ProtoWriter().message(5, externalTensor("evil", "/etc/passwd")));
  refused(abs, /model\.onnx: not a readable ONNX model: initializer 'evil' keeps its values in an external file \(location "\/etc\/passwd"\).*external data is refused/);

  const rel = copy("external-rel");
  appendToGraph(rel, new ProtoWriter().message(5, externalTensor("up", "../../secret.bin", true)));
  refused(rel, /model\.onnx: .*initializer 'up' keeps its values in an external file \(location "\.\.\/\.\.\/secret\.bin"\)/);
  // The training side (nast train --init) reads the same file and refuses it too, raw_data or not.
  assert.throws(() => readOnnxWeights(join(rel, "model.onnx")), (e: Error) => e instanceof OnnxFormatError && /'up' keeps its values in an external file/.test(e.message));
});

test("external data in a Constant node inside an If branch (a subgraph attribute) is refused", () => {
  // NodeProto: output 2, name 3, op_type 4, attribute 5; AttributeProto: name 1, t 5, g 6, type 20 (TENSOR 4, GRAPH 5).
  const constant = new ProtoWriter()
    .string(2, "hidden_value")
    .string(3, "hidden")
    .string(4, "Constant")
    .message(5, new ProtoWriter().string(1, "value").message(5, externalTensor("deep", "/dev/zero")).int(20, 4));
  const branch = new ProtoWriter().message(1, constant).string(2, "then");
  const ifNode = new ProtoWriter()
    .string(1, "cond")
    .string(2, "if_out")
    .string(3, "if")
    .string(4, "If")
    .message(5, new ProtoWriter().string(1, "then_branch").message(6, branch).int(20, 5));
  const dir = copy("external-subgraph");
  appendToGraph(dir, new ProtoWriter().message(1, ifNode));
  refused(dir, /model\.onnx: .*a node attribute tensor 'deep' keeps its values in an external file \(location "\/dev\/zero"\)/);
});

test("symbolic links and non-regular files in a package are refused; nothing they point at is read", () => {
  const outside = join(work, "outside.onnx");
  cpSync(join(model, "model.onnx"), outside);
  const linked = copy("linked");
  rmSync(join(linked, "model.onnx"));
  symlinkSync(outside, join(linked, "model.onnx"));
  refused(linked, /linked\/model\.onnx: is a symbolic link; a model package holds its files themselves/);

  const nullSpm = copy("null-spm");
  rmSync(join(nullSpm, "spm.model"));
  symlinkSync("/dev/null", join(nullSpm, "spm.model"));
  refused(nullSpm, /null-spm\/spm\.model: is a symbolic link/);

  const dirInPlace = copy("dir-in-place");
  rmSync(join(dirInPlace, "model.onnx"));
  mkdirSync(join(dirInPlace, "model.onnx"));
  refused(dirInPlace, /dir-in-place\/model\.onnx: is not a regular file/);
});

test("files of absurd size are refused before they are read", () => {
  const bigConfig = copy("big-config");
  truncateSync(join(bigConfig, "config.json"), 5 * 2 ** 20); // sparse: no disk space used
  refused(bigConfig, /big-config\/config\.json: is 5 MiB, more than the 4 MiB such a file may be/);

  const bigModel = copy("big-model");
  truncateSync(join(bigModel, "model.onnx"), 3 * 2 ** 30);
  refused(bigModel, /big-model\/model\.onnx: is 3072 MiB, more than the 2048 MiB such a file may be/);
});

test("nast translate with model.onnx linked to /dev/zero stops at once with a clear error (no out-of-memory crash)", () => {
  const zero = copy("zero");
  rmSync(join(zero, "model.onnx"));
  symlinkSync("/dev/zero", join(zero, "model.onnx"));
  const r = runNast(["translate", EXAMPLE_WAV, "-m", zero]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^nast: .*zero\/model\.onnx: is a symbolic link/);
  assert.doesNotMatch(r.stderr, /heap|out of memory|at .*\.ts/);
});
