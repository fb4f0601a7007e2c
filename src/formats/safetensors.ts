// The safetensors format (huggingface/safetensors README.md; docs/design.md §7.8): 8-byte
// little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__":
// {string: string}}, then the raw little-endian C-order bytes, offsets relative to the end of the header.
// The one codec of the project, pure TypeScript over host bytes, so that averaging, export and reading a
// checkpoint's metadata need no libtorch; src/torch/safetensors.ts converts Tensors to and from HostTensors.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { writeFileAtomic } from "./atomic-file.ts";
import { InputError } from "../util/errors.ts";
import { ELEMENT_BYTES, type ElementType } from "./dtype.ts";
import { fromBfloat16Bits, halfTable, toBfloat16Bits, toHalfBits } from "./float16.ts";

export type StDtype = "F32" | "F64" | "F16" | "BF16" | "I64" | "I32" | "U8" | "BOOL";

/** The element type each safetensors dtype names. */
const ELEMENT: Record<StDtype, ElementType> = { F32: "float32", F64: "float64", F16: "float16", BF16: "bfloat16", I64: "int64", I32: "int32", U8: "uint8", BOOL: "bool" };
const ST_DTYPE = new Map<ElementType, StDtype>(Object.entries(ELEMENT).map(([st, e]) => [e, st as StDtype]));

/** The safetensors dtype that stores an element type; undefined for one that nast's checkpoints never hold (int8). */
export function stDtypeOf(element: ElementType): StDtype | undefined {
  return ST_DTYPE.get(element);
}

/** The element type of a safetensors dtype. */
export function elementOf(dtype: StDtype): ElementType {
  return ELEMENT[dtype];
}

function itemBytes(dtype: StDtype): number {
  return ELEMENT_BYTES[ELEMENT[dtype]];
}

/** One tensor on the host: its bytes (little-endian, C order) and how to read them. */
export interface HostTensor {
  dtype: StDtype;
  shape: number[];
  /** Exactly numel × itemsize bytes. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float32 host tensor (copies the values). */
export function f32Tensor(values: Float32Array, shape: number[]): HostTensor {
  if (values.length !== numel(shape)) throw new RangeError(`f32Tensor: ${values.length} values for shape [${shape}]`);
  const copy = new Float32Array(values);
  return { dtype: "F32", shape: shape.slice(), bytes: new Uint8Array(copy.buffer) };
}

/** The values of a float tensor (F32/F64/F16/BF16) or integer tensor as float64. */
export function toFloat64(t: HostTensor): Float64Array {
  const n = numel(t.shape);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const halves = t.dtype === "F16" ? halfTable() : undefined;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case "F32": out[i] = view.getFloat32(i * 4, true); break;
      case "F64": out[i] = view.getFloat64(i * 8, true); break;
      case "F16": out[i] = halves![view.getUint16(i * 2, true)]!; break;
      case "BF16": out[i] = fromBfloat16Bits(view.getUint16(i * 2, true)); break;
      case "I64": out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case "I32": out[i] = view.getInt32(i * 4, true); break;
      case "U8": case "BOOL": out[i] = view.getUint8(i); break;
    }
  }
  return out;
}

/** Float64 values back into a tensor of the given dtype and shape (floats round, integers truncate). */
export function fromFloat64(values: Float64Array, dtype: StDtype, shape: number[]): HostTensor {
  const n = numel(shape);
  const bytes = new Uint8Array(n * itemBytes(dtype));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    switch (dtype) {
      case "F32": view.setFloat32(i * 4, v, true); break;
      case "F64": view.setFloat64(i * 8, v, true); break;
      case "F16": view.setUint16(i * 2, toHalfBits(v), true); break;
      case "BF16": view.setUint16(i * 2, toBfloat16Bits(v), true); break;
      case "I64": view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
      case "I32": view.setInt32(i * 4, Math.trunc(v), true); break;
      case "U8": case "BOOL": view.setUint8(i, Math.trunc(v)); break;
    }
  }
  return { dtype, shape: shape.slice(), bytes };
}

/** Serializes tensors (in the given order) and string metadata. */
export function encodeSafetensors(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new RangeError(`safetensors: "__metadata__" cannot name a tensor`);
    const size = numel(t.shape) * itemBytes(t.dtype);
    if (t.bytes.byteLength !== size) {
      throw new RangeError(`safetensors: tensor ${name} has ${t.bytes.byteLength} bytes, shape [${t.shape}] ${t.dtype} needs ${size}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  // Pad the header with spaces to a multiple of 8 so that the data that follows stays aligned.
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, "utf8");
  const out = Buffer.allocUnsafe(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

/** Tensors and metadata from a file's bytes; `source` names the file in errors. */
export function decodeSafetensors(buf: Uint8Array, source: string): SafetensorsFile {
  const { header, dataStart } = parseHeader(buf, source);
  const payload = buf.length - dataStart;
  const tensors = new Map<string, HostTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = info as { dtype: StDtype; shape: number[]; data_offsets: [number, number] };
    if (!Object.hasOwn(ELEMENT, dtype)) throw new InputError(source, `tensor "${name}" has unsupported dtype ${dtype}`);
    const size = numel(shape) * itemBytes(dtype);
    const [begin, end] = offsets;
    if (end - begin !== size || begin < 0 || end > payload) {
      throw new InputError(
        source,
        `tensor "${name}" has offsets [${begin}, ${end}] for ${size} bytes in a ${payload}-byte payload: they do not fit shape [${shape}] ${dtype} (file truncated?)`,
      );
    }
    // Copy so that each tensor owns an aligned buffer (the file buffer's offsets need not be aligned).
    const bytes = new Uint8Array(size);
    bytes.set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, bytes });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string> | undefined) ?? {} };
}

export function readSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(path, `cannot read checkpoint (${(err as Error).message})`);
  }
  return decodeSafetensors(buf, path);
}

/** Only the metadata, reading just the header (cheap on large checkpoints). */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fd = openSync(path, "r");
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) throw new InputError(path, "not a valid safetensors file: shorter than 8 bytes");
    const n = Number(len.readBigUInt64LE(0));
    if (n > MAX_HEADER) throw new InputError(path, `not a valid safetensors file: header length ${n} exceeds the limit`);
    const head = Buffer.alloc(8 + n);
    len.copy(head);
    readSync(fd, head, 8, n, 8);
    return (parseHeader(head, path).header.__metadata__ as Record<string, string> | undefined) ?? {};
  } finally {
    closeSync(fd);
  }
}

/** A header longer than this is a corrupt length field, not a real file. */
const MAX_HEADER = 100_000_000;

function parseHeader(buf: Uint8Array, source: string): { header: Record<string, unknown>; dataStart: number } {
  const bad = (why: string): never => {
    throw new InputError(source, `not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) bad("shorter than 8 bytes");
  const n = Number(new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) bad(`header length ${n} exceeds the file (${buf.length} bytes)`);
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString("utf8");
  if (!text.startsWith("{")) bad("header does not start with '{'");
  try {
    return { header: JSON.parse(text) as Record<string, unknown>, dataStart: 8 + n };
  } catch (err) {
    return bad(`header is not JSON (${(err as Error).message})`);
  }
}

/** Writes atomically (src/formats/atomic-file.ts): a crash never leaves a half-written checkpoint. */
export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
