// The weights and metadata of a model package's model.onnx, read back as a state dict: what `nast train
// --init models/default` starts from (fine-tuning the shipped model, or continuing a run whose checkpoints
// are gone). Only what our exporter writes is read (onnx-proto.ts): ModelProto.graph (7) →
// GraphProto.initializer (5) → TensorProto dims (1), data_type (2), name (8), raw_data (9); and
// ModelProto.metadata_props (14) → key (1), value (2). Float16 weights are stored as `<name>.fp16`
// (onnx-ops.ts) and come back as float32 under `<name>`, exactly the values the package computes with.
import { readFileSync } from "node:fs";
import { decodeHalf } from "../util/float16.ts";
import type { StoredTensor } from "./checkpoint.ts";
import { DataType, type DType } from "./onnx-proto.ts";

export interface OnnxWeights {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** One field of a message: its number, and a varint value or the bounds of its bytes. */
type Field = { no: number; varint: bigint } | { no: number; start: number; end: number };

class Malformed extends Error {}

/** The fields of the message in buf[start, end), in order (wire types 0, 1, 2 and 5). */
function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= end || shift > 63n) throw new Malformed(`a varint runs past its message at byte ${pos}`);
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < end) {
    const tag = varint();
    const no = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0:
        yield { no, varint: varint() };
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = Number(varint());
        if (pos + len > end) throw new Malformed(`field ${no} (${len} bytes) runs past its message at byte ${pos}`);
        yield { no, start: pos, end: pos + len };
        pos += len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Malformed(`unsupported wire type in tag ${tag} at byte ${pos}`);
    }
  }
}

const DTYPE_OF = new Map<number, DType>(Object.entries(DataType).map(([k, v]) => [v, k as DType]));
const utf8 = new TextDecoder();

function tensor(buf: Uint8Array, start: number, end: number): { name: string; t: StoredTensor } {
  const dims: number[] = [];
  let dtype: DType | undefined;
  let name = "";
  let raw: Uint8Array | undefined;
  for (const f of fields(buf, start, end)) {
    if ("varint" in f) {
      if (f.no === 1) dims.push(Number(f.varint));
      else if (f.no === 2) dtype = DTYPE_OF.get(Number(f.varint));
    } else if (f.no === 1) dims.push(...packedVarints(buf, f.start, f.end));
    else if (f.no === 8) name = utf8.decode(buf.subarray(f.start, f.end));
    else if (f.no === 9) raw = buf.slice(f.start, f.end);
  }
  if (dtype === undefined) throw new Malformed(`initializer '${name}' has a data type nast does not read`);
  if (raw === undefined) throw new Malformed(`initializer '${name}' keeps its values outside raw_data (not written by nast export)`);
  return { name, t: { dtype, shape: dims, data: raw } };
}

/** Decodes the packed dims of a TensorProto: a run of varints without tags. */
function packedVarints(buf: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  let v = 0;
  let scale = 1;
  for (let pos = start; pos < end; pos++) {
    const b = buf[pos]!;
    v += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) {
      out.push(v);
      v = 0;
      scale = 1;
    }
  }
  return out;
}

export function readOnnxWeights(path: string): OnnxWeights {
  const buf = new Uint8Array(readFileSync(path));
  const tensors = new Map<string, StoredTensor>();
  const metadata: Record<string, string> = {};
  try {
    for (const f of fields(buf, 0, buf.length)) {
      if ("varint" in f) continue;
      if (f.no === 14) {
        let key = "";
        let value = "";
        for (const e of fields(buf, f.start, f.end)) {
          if ("varint" in e) continue;
          if (e.no === 1) key = utf8.decode(buf.subarray(e.start, e.end));
          else if (e.no === 2) value = utf8.decode(buf.subarray(e.start, e.end));
        }
        metadata[key] = value;
      } else if (f.no === 7) {
        for (const g of fields(buf, f.start, f.end)) {
          if ("varint" in g || g.no !== 5) continue;
          const { name, t } = tensor(buf, g.start, g.end);
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
    }
  } catch (err) {
    if (err instanceof Malformed) throw new Error(`${path}: not an ONNX model written by nast export (${err.message})`);
    throw err;
  }
  return { tensors, metadata };
}
