// ONNX's protobuf messages (onnx/onnx.proto, IR version 8 = opset 17), written with our own
// wire-format writer. Only the fields an inference graph needs are modelled.
import { ProtoWriter } from "./protobuf.ts";

/** TensorProto.DataType values used here. */
export const DataType = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 } as const;
export type DType = keyof typeof DataType;

export const IR_VERSION = 8;
export const OPSET = 17;

export interface TensorInit {
  name: string;
  dtype: DType;
  dims: readonly number[];
  /** Little-endian bytes in C order. */
  raw: Uint8Array;
}

/** The attribute kinds our ops use (onnx.proto AttributeProto: f = 2, i = 3, ints = 8). */
export type AttrValue = { kind: "int"; value: number } | { kind: "float"; value: number } | { kind: "ints"; value: readonly number[] };

export interface NodeDef {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Record<string, AttrValue>;
}

/** A graph input or output: dims are numbers (fixed) or strings (symbolic, e.g. "B", "T"). */
export interface ValueInfo {
  name: string;
  dtype: DType;
  /** Omitted: shape unknown (rank included). */
  dims?: readonly (number | string)[];
}

export interface ModelDef {
  graphName: string;
  nodes: readonly NodeDef[];
  initializers: readonly TensorInit[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  metadata: Record<string, string>;
  producerName: string;
  producerVersion: string;
  docString?: string;
}

export function tensorProto(t: TensorInit): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, DataType[t.dtype]);
  w.string(8, t.name);
  w.bytesField(9, t.raw);
  return w;
}

const AttrType = { float: 1, int: 2, ints: 7 } as const;

function attributeProto(name: string, a: AttrValue): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  w.int(20, AttrType[a.kind]);
  switch (a.kind) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "ints":
      w.packedInts(8, a.value);
      break;
  }
  return w;
}

export function nodeProto(n: NodeDef): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs)) w.message(5, attributeProto(k, v));
  return w;
}

export function valueInfoProto(v: ValueInfo): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, DataType[v.dtype]);
  if (v.dims !== undefined) {
    const shape = new ProtoWriter();
    for (const d of v.dims) {
      const dim = new ProtoWriter();
      if (typeof d === "number") dim.int(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** Serializes a whole model; returns the chunks of the ModelProto (write them in order). */
export function modelProto(m: ModelDef): Uint8Array[] {
  const graph = new ProtoWriter();
  for (const n of m.nodes) graph.message(1, nodeProto(n));
  graph.string(2, m.graphName);
  for (const t of m.initializers) graph.message(5, tensorProto(t));
  for (const i of m.inputs) graph.message(11, valueInfoProto(i));
  for (const o of m.outputs) graph.message(12, valueInfoProto(o));

  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, m.producerName);
  model.string(3, m.producerVersion);
  if (m.docString) model.string(6, m.docString);
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, "").int(2, OPSET));
  for (const [key, value] of Object.entries(m.metadata)) {
    model.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return model.finish();
}
