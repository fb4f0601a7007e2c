// An ONNX graph under construction: nodes in topological order (each node is appended after the
// nodes producing its inputs, because the model's forward runs in order), initializers, constants
// (deduplicated) and the graph's inputs and outputs.
import { ELEMENT_BYTES } from "../formats/dtype.ts";
import { encodeHalf } from "../formats/float16.ts";
import { type AttrValue, type DType, type ModelDef, type NodeDef, type TensorInit, type ValueInfo } from "../formats/onnx-proto.ts";

/** A tensor in the graph: its name and element type (shapes stay symbolic). */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
}

export type AttrInput = number | readonly number[];

/** Attributes that ONNX defines as floats among those our ops set. */
const FLOAT_ATTRS = new Set(["epsilon"]);

function toAttr(v: AttrInput, floatAttr: boolean): AttrValue {
  if (typeof v === "number") return floatAttr || !Number.isInteger(v) ? { kind: "float", value: v } : { kind: "int", value: v };
  return { kind: "ints", value: v };
}

export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly initializers: TensorInit[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly constants = new Map<string, Value>();
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh unique name starting with `hint`. */
  fresh(hint: string): string {
    let name = `${hint}_${this.counter++}`;
    while (this.names.has(name)) name = `${hint}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name '${name}' is used twice`);
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: DType, dims: readonly (number | string)[]): Value {
    this.inputs.push({ name: this.claim(name), dtype, dims });
    return { name, dtype };
  }

  /** Marks `v` as a graph output called `name` (through an Identity node when renamed). */
  output(v: Value, name: string, dims?: readonly (number | string)[]): void {
    if (v.name !== name) this.node("Identity", [v], {}, [v.dtype], [name]);
    this.outputs.push({ name, dtype: v.dtype, dims });
  }

  initializer(name: string, dtype: DType, dims: readonly number[], raw: Uint8Array): Value {
    return this.addInitializer(this.claim(name), dtype, dims, raw);
  }

  private addInitializer(name: string, dtype: DType, dims: readonly number[], raw: Uint8Array): Value {
    const count = dims.reduce((a, b) => a * b, 1);
    if (raw.length !== count * ELEMENT_BYTES[dtype]) {
      throw new Error(`ONNX initializer '${name}': ${raw.length} bytes do not hold ${dtype}[${dims.join(", ")}]`);
    }
    this.initializers.push({ name, dtype, dims, raw });
    return { name, dtype };
  }

  /** A constant tensor, shared between all uses of the same dtype, shape and values. */
  constant(dtype: DType, dims: readonly number[], values: readonly number[]): Value {
    const key = `${dtype}|${dims.join(",")}|${values.join(",")}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const v = this.addInitializer(this.fresh("const"), dtype, dims, encodeValues(dtype, values));
    this.constants.set(key, v);
    return v;
  }

  scalar(dtype: DType, value: number): Value {
    return this.constant(dtype, [], [value]);
  }

  ints(values: readonly number[]): Value {
    return this.constant("int64", [values.length], values);
  }

  /**
   * Appends a node. `outDtypes` gives each output's element type; `names` optionally fixes the output
   * names. Numeric attributes are ints unless fractional or named in FLOAT_ATTRS (epsilon = 1 stays a float).
   */
  node(
    opType: string,
    inputs: readonly (Value | undefined)[],
    attrs: Record<string, AttrInput>,
    outDtypes: readonly DType[],
    names?: readonly string[],
  ): Value[] {
    const outputs = outDtypes.map((dtype, i) => ({ name: names?.[i] !== undefined ? this.claim(names[i]) : this.fresh(opType), dtype }));
    const attributes: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttr(v, FLOAT_ATTRS.has(k));
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType}`),
      inputs: inputs.map((v) => v?.name ?? ""),
      outputs: outputs.map((o) => o.name),
      attrs: attributes,
    });
    return outputs;
  }

  /** One-output node. */
  op(opType: string, inputs: readonly (Value | undefined)[], attrs: Record<string, AttrInput>, outDtype: DType): Value {
    return this.node(opType, inputs, attrs, [outDtype])[0]!;
  }

  /**
   * The model, without the nodes and initializers that no graph output depends on: e.g. a weight's float
   * initializer (and its float16 Cast) once the int8 export has replaced each of its uses (./int8.ts).
   */
  model(opts: { graphName: string; metadata: Record<string, string>; producerVersion: string; docString?: string }): ModelDef {
    const needed = new Set(this.outputs.map((o) => o.name));
    const nodes: NodeDef[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.outputs.some((o) => needed.has(o))) continue;
      nodes.push(n);
      for (const x of n.inputs) needed.add(x);
    }
    return {
      graphName: opts.graphName,
      nodes: nodes.reverse(),
      initializers: this.initializers.filter((t) => needed.has(t.name)),
      inputs: this.inputs,
      outputs: this.outputs,
      metadata: opts.metadata,
      producerName: "nast",
      producerVersion: opts.producerVersion,
      docString: opts.docString,
    };
  }
}

/** Little-endian bytes of `values` as `dtype`. */
export function encodeValues(dtype: DType, values: readonly number[]): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case "float32":
      return new Uint8Array(Float32Array.from(values).buffer);
    case "float64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "int64":
      return new Uint8Array(BigInt64Array.from(values, toInt64).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(values).buffer);
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case "uint8":
      return Uint8Array.from(values);
    case "int8":
      return new Uint8Array(Int8Array.from(values).buffer);
    case "float16":
      return new Uint8Array(encodeHalf(Float32Array.from(values)).buffer, 0, n * 2);
  }
}

/** An integral number as int64, saturating (so that "to the end" bounds like 1e18 or Infinity fit). */
function toInt64(v: number): bigint {
  if (!Number.isInteger(v) && Number.isFinite(v)) throw new Error(`int64 constant: ${v} is not an integer`);
  if (v >= 2 ** 63) return 2n ** 63n - 1n;
  if (v <= -(2 ** 63)) return -(2n ** 63n);
  return BigInt(v);
}
