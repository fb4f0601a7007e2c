// Reads what `nast translate` needs to check a model package before onnxruntime loads it: the ONNX
// metadata_props (our "nast.*" keys) and the graph's input and output names, by walking the
// protobuf wire format of ModelProto (onnx.proto: graph = 7, metadata_props = 14; GraphProto:
// input = 11, output = 12) and skipping everything else. A truncated or foreign file fails here with
// a message that says so, instead of onnxruntime's "protobuf parsing failed".
import { ProtoError, ProtoReader } from "./protobuf.ts";
import { DataType, type DType } from "./onnx-proto.ts";

export interface OnnxInfo {
  irVersion: number;
  metadata: Record<string, string>;
  inputs: string[];
  outputs: { name: string; dims: (number | string)[] }[];
}

/** Whether `x` (e.g. parsed JSON) has OnnxInfo's form. */
export function isOnnxInfo(x: unknown): x is OnnxInfo {
  if (x === null || typeof x !== "object") return false;
  const o = x as { [k: string]: unknown };
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((e) => typeof e === "string");
  const metadata = o.metadata as { [k: string]: unknown } | null;
  return (
    typeof o.irVersion === "number" &&
    metadata !== null &&
    typeof metadata === "object" &&
    !Array.isArray(metadata) &&
    Object.values(metadata).every((v) => typeof v === "string") &&
    strings(o.inputs) &&
    Array.isArray(o.outputs) &&
    o.outputs.every((out: unknown) => {
      const v = out as { [k: string]: unknown } | null;
      return v !== null && typeof v === "object" && typeof v.name === "string" && Array.isArray(v.dims) && v.dims.every((d) => typeof d === "number" || typeof d === "string");
    })
  );
}

export class OnnxFormatError extends Error {
  override name = "OnnxFormatError";
}

/** Runs a read of ONNX bytes, reporting a malformed wire format (ProtoError) as an OnnxFormatError. */
export function readingOnnx<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ProtoError) throw new OnnxFormatError(err.message);
    throw err;
  }
}

function valueInfo(r: ProtoReader): { name: string; dims: (number | string)[] } {
  let name = "";
  const dims: (number | string)[] = [];
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 1 && w === 2) name = r.string();
    else if (f === 2 && w === 2) {
      // ValueInfoProto.type → TypeProto.tensor_type (1) → shape (2) → TensorShapeProto.dim (1).
      for (const tensor of r.message().messages(1)) {
        for (const shape of tensor.messages(2)) {
          for (const dim of shape.messages(1)) {
            let value: number | string = "?";
            while (!dim.done) {
              const [df, dw] = dim.key();
              if (df === 1 && dw === 0) value = dim.varint();
              else if (df === 2 && dw === 2) value = dim.string();
              else dim.skip(dw);
            }
            dims.push(value);
          }
        }
      }
    } else r.skip(w);
  }
  return { name, dims };
}

// Where a TensorProto can sit (field numbers of the ONNX protobuf schema): GraphProto initializer (5), sparse_initializer (15:
// SparseTensorProto values 1, indices 2) and node (1); NodeProto attribute (5); AttributeProto t (5), g (6),
// tensors (10), graphs (11), sparse_tensor (22), sparse_tensors (23); ModelProto graph (7), training_info (20:
// TrainingInfoProto initialization 1, algorithm 2) and functions (25: FunctionProto node 7, attribute_proto 11).
// In a TensorProto, external_data (13) and data_location (14) = EXTERNAL (1) send onnxruntime to a file.
const EXTERNAL = 1;

function tensorName(t: ProtoReader): string {
  let name = "";
  while (!t.done) {
    const [f, w] = t.key();
    if (f === 8 && w === 2) name = t.string();
    else t.skip(w);
  }
  return name;
}

function checkTensor(r: ProtoReader, where: string): void {
  const start = r.pos;
  let location: string | null = null;
  let external = false;
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 14 && w === 0) {
      if (r.varint() === EXTERNAL) external = true;
    }
    else if (f === 13 && w === 2) {
      external = true;
      const entry = r.message();
      let key = "";
      let value = "";
      while (!entry.done) {
        const [ef, ew] = entry.key();
        if (ef === 1 && ew === 2) key = entry.string();
        else if (ef === 2 && ew === 2) value = entry.string();
        else entry.skip(ew);
      }
      if (key === "location") location = value;
    } else r.skip(w);
  }
  if (external) {
    const name = tensorName(new ProtoReader(r.buf, start, r.end));
    throw new OnnxFormatError(
      `${where} '${name}' keeps its values in an external file${location !== null ? ` (location ${JSON.stringify(location)})` : ""}; ` +
        "a nast model package is one self-contained model.onnx, and external data is refused",
    );
  }
}

function checkSparse(r: ProtoReader, where: string): void {
  while (!r.done) {
    const [f, w] = r.key();
    if ((f === 1 || f === 2) && w === 2) checkTensor(r.message(), where);
    else r.skip(w);
  }
}

function checkAttribute(r: ProtoReader, depth: number): void {
  while (!r.done) {
    const [f, w] = r.key();
    if ((f === 5 || f === 10) && w === 2) checkTensor(r.message(), "a node attribute tensor");
    else if ((f === 22 || f === 23) && w === 2) checkSparse(r.message(), "a node attribute sparse tensor");
    else if ((f === 6 || f === 11) && w === 2) checkGraph(r.message(), depth + 1);
    else r.skip(w);
  }
}

function checkNode(r: ProtoReader, depth: number): void {
  for (const attribute of r.messages(5)) checkAttribute(attribute, depth);
}

function checkGraph(r: ProtoReader, depth: number): void {
  // Subgraphs (If, Loop, Scan bodies) nest; protobuf itself stops at 100 levels.
  if (depth > 100) throw new OnnxFormatError("graphs nested more than 100 deep");
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 5 && w === 2) checkTensor(r.message(), "initializer");
    else if (f === 15 && w === 2) checkSparse(r.message(), "sparse initializer");
    else if (f === 1 && w === 2) checkNode(r.message(), depth);
    else r.skip(w);
  }
}

/**
 * Throws OnnxFormatError when any tensor of the model (initializers, sparse initializers, node attributes, in
 * every graph, subgraph, function and training graph) refers to external data: onnxruntime would open that file,
 * wherever it is (an absolute path, ../..), to read the tensor.
 */
export function checkSelfContained(buf: Uint8Array): void {
  readingOnnx(() => checkModel(new ProtoReader(buf)));
}

function checkModel(r: ProtoReader): void {
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 7 && w === 2) checkGraph(r.message(), 0);
    else if (f === 20 && w === 2) {
      const t = r.message();
      while (!t.done) {
        const [tf, tw] = t.key();
        if ((tf === 1 || tf === 2) && tw === 2) checkGraph(t.message(), 0);
        else t.skip(tw);
      }
    } else if (f === 25 && w === 2) {
      const fn = r.message();
      while (!fn.done) {
        const [ff, fw] = fn.key();
        if (ff === 7 && fw === 2) checkNode(fn.message(), 0);
        else if (ff === 11 && fw === 2) checkAttribute(fn.message(), 0);
        else fn.skip(fw);
      }
    } else r.skip(w);
  }
}

/** The model's metadata and graph interface; also refuses a model whose tensors refer to external data (checkSelfContained). */
export function readOnnxInfo(buf: Uint8Array): OnnxInfo {
  checkSelfContained(buf);
  return readingOnnx(() => modelInfo(new ProtoReader(buf)));
}

function modelInfo(r: ProtoReader): OnnxInfo {
  const info: OnnxInfo = { irVersion: 0, metadata: {}, inputs: [], outputs: [] };
  let sawGraph = false;
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === 0) info.irVersion = r.varint();
    else if (field === 7 && wire === 2) {
      sawGraph = true;
      const g = r.message();
      while (!g.done) {
        const [gf, gw] = g.key();
        if (gf === 11 && gw === 2) info.inputs.push(valueInfo(g.message()).name);
        else if (gf === 12 && gw === 2) info.outputs.push(valueInfo(g.message()));
        else g.skip(gw);
      }
    } else if (field === 14 && wire === 2) {
      const e = r.message();
      let key = "";
      let value = "";
      while (!e.done) {
        const [ef, ew] = e.key();
        if (ef === 1 && ew === 2) key = e.string();
        else if (ef === 2 && ew === 2) value = e.string();
        else e.skip(ew);
      }
      info.metadata[key] = value;
    } else r.skip(wire);
  }
  if (!sawGraph) throw new OnnxFormatError("holds no graph (not an ONNX model?)");
  return info;
}

const DTYPE_OF = new Map<number, DType>(Object.entries(DataType).map(([k, v]) => [v, k as DType]));

/** One initializer (a TensorProto): its name, type, dims and values. */
export interface OnnxInitializer {
  name: string;
  dtype: DType;
  shape: number[];
  /** The raw_data bytes, copied: an own buffer, aligned for any typed array. */
  data: Uint8Array;
}

/**
 * A TensorProto as nast reads them: dims (1, packed or not), data_type (2), name (8), raw_data (9). What the
 * exporter writes and what PyTorch's exporter writes keeps its values in raw_data; a tensor that keeps them
 * elsewhere (float_data, external data) or has a type of no DataType here is refused, naming it.
 */
export function readInitializer(r: ProtoReader): OnnxInitializer {
  const shape: number[] = [];
  let dtype: DType | undefined;
  let name = "";
  let data: Uint8Array | undefined;
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 1 && w === 2) {
      const packed = r.message();
      while (!packed.done) shape.push(packed.varint());
    } else if (f === 1 && w === 0) shape.push(r.varint());
    else if (f === 2 && w === 0) dtype = DTYPE_OF.get(r.varint());
    else if (f === 8 && w === 2) name = r.string();
    // A copy made by the constructor: on a Node Buffer, slice() would be a view of the whole pool.
    else if (f === 9 && w === 2) data = new Uint8Array(r.bytes());
    else r.skip(w);
  }
  if (dtype === undefined) throw new OnnxFormatError(`initializer '${name}' has a data type nast does not read`);
  if (data === undefined) throw new OnnxFormatError(`initializer '${name}' keeps its values outside raw_data`);
  return { name, dtype, shape, data };
}
