// The weights and metadata of a model package's model.onnx, read back as a state dict: what `nast train
// --init models/default` starts from (fine-tuning the shipped model, or continuing a run whose checkpoints
// are gone). Only what our exporter writes is read (onnx-proto.ts): ModelProto.graph (7) →
// GraphProto.initializer (5) → TensorProto dims (1, packed), data_type (2), name (8), raw_data (9); the
// metadata comes from readOnnxInfo. Float16 weights are stored as `<name>.fp16` (onnx-ops.ts) and come back
// as float32 under `<name>`: exactly the values the package computes with; so do int8 weights
// (`<name>.int8`, `.int8-table` or `.int8-taps`, and `<name>.scale`, int8.ts), dequantized. The file is read as the translate
// side reads a package's (readPackageFile: a regular file of sane size, no link), and a model whose tensors
// refer to external data is refused (readOnnxInfo).
import { OnnxFormatError, readInitializer, readOnnxInfo, readingOnnx } from "../formats/onnx-info.ts";
import { ProtoReader } from "../formats/protobuf.ts";
import { PACKAGE_FILE_LIMITS, readPackageFile } from "../formats/model-package.ts";
import { decodeHalf } from "../formats/float16.ts";
import type { StoredTensor } from "./checkpoint.ts";
import { dequantizeColumns, INT8_FORMS, transposed, type Int8Form } from "./int8.ts";

export interface OnnxWeights {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/**
 * Replaces each quantized weight (`<name>` + a suffix of INT8_FORMS, with `<name>.scale`) by the float32 `<name>`
 * it encodes, in the parameter's own layout: (out × in) for a linear's Wᵀ, (V × d) for a table, (O, C, k) for a
 * convolution's taps (k, C, O).
 */
function dequantizeInt8(tensors: Map<string, StoredTensor>): void {
  for (const [key, q] of [...tensors]) {
    const form = (Object.keys(INT8_FORMS) as Int8Form[]).find((f) => key.endsWith(INT8_FORMS[f]));
    if (form === undefined) continue;
    const name = key.slice(0, -INT8_FORMS[form].length);
    const scale = tensors.get(`${name}.scale`);
    const rank = form === "taps" ? 3 : 2;
    const out = q.shape[rank - 1]!;
    const inp = q.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (q.dtype !== "int8" || q.shape.length !== rank || scale?.dtype !== "float32" || scale.shape.join() !== String(out)) {
      throw new OnnxFormatError(`initializer '${key}' is not an int8 weight with its '${name}.scale' as nast export writes them`);
    }
    const cols = { q: new Int8Array(q.data.buffer, q.data.byteOffset, q.data.length), scale: new Float32Array(scale.data.slice().buffer) };
    const w = dequantizeColumns(cols, out, inp); // (out × in)
    let param: { shape: number[]; values: Float32Array };
    if (form === "linear") param = { shape: [out, inp], values: w };
    else if (form === "table") param = { shape: [inp, out], values: transposed(w, out, inp) };
    else {
      const [k, channels] = q.shape as [number, number, number];
      const values = new Float32Array(w.length);
      for (let o = 0; o < out; o++) for (let j = 0; j < k; j++) for (let c = 0; c < channels; c++) values[(o * channels + c) * k + j] = w[o * inp + j * channels + c]!;
      param = { shape: [out, channels, k], values };
    }
    tensors.set(name, { dtype: "float32", shape: param.shape, data: new Uint8Array(param.values.buffer) });
    tensors.delete(key);
    tensors.delete(`${name}.scale`);
  }
}

export function readOnnxWeights(path: string): OnnxWeights {
  const buf = new Uint8Array(readPackageFile(path, PACKAGE_FILE_LIMITS["model.onnx"]));
  const tensors = new Map<string, StoredTensor>();
  try {
    return readingOnnx(() => {
      const { metadata } = readOnnxInfo(buf);
      // ModelProto.graph (7) → GraphProto.initializer (5).
      for (const graph of new ProtoReader(buf, 0, buf.length).messages(7)) {
        for (const init of graph.messages(5)) {
          const { name, ...t } = readInitializer(init);
          if (name.endsWith(".fp16") && t.dtype === "float16") {
            const n = t.shape.reduce((a, b) => a * b, 1);
            const wide = new Float32Array(n);
            decodeHalf(new Uint16Array(t.data.buffer, t.data.byteOffset, n), wide);
            tensors.set(name.slice(0, -".fp16".length), { dtype: "float32", shape: t.shape, data: new Uint8Array(wide.buffer) });
          } else {
            tensors.set(name, t);
          }
        }
      }
      dequantizeInt8(tensors);
      return { tensors, metadata };
    });
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new OnnxFormatError(`${path}: not a model written by nast export (${err.message})`);
    throw err;
  }
}
