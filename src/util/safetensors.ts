// Checkpoint files in the safetensors format (huggingface/safetensors README; ../shared/reference/ecosystem.md §6):
// 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__":
// {string: string}}, then the raw little-endian C-order bytes. Pure TypeScript over host arrays, so that
// averaging, pruning and reading a checkpoint's metadata need no libtorch; the trainer copies tensors to
// and from the device itself.
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from "node:fs";
import { InputError } from "../util/errors.ts";

export type StDtype = "F32" | "F64" | "F16" | "BF16" | "I64" | "I32" | "U8" | "BOOL";

const BYTES: Record<StDtype, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

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
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case "F32": out[i] = view.getFloat32(i * 4, true); break;
      case "F64": out[i] = view.getFloat64(i * 8, true); break;
      case "F16": out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
      case "BF16": out[i] = bf16ToFloat(view.getUint16(i * 2, true)); break;
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
  const bytes = new Uint8Array(n * BYTES[dtype]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    switch (dtype) {
      case "F32": view.setFloat32(i * 4, v, true); break;
      case "F64": view.setFloat64(i * 8, v, true); break;
      case "F16": view.setUint16(i * 2, floatToHalf(v), true); break;
      case "BF16": view.setUint16(i * 2, floatToBf16(v), true); break;
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
    const size = numel(t.shape) * BYTES[t.dtype];
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

export function decodeSafetensors(buf: Buffer, source: string): SafetensorsFile {
  const { header, dataStart } = parseHeader(buf, source);
  const tensors = new Map<string, HostTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = info as { dtype: StDtype; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new InputError(source, `tensor ${name}: unsupported dtype ${dtype}`);
    const size = numel(shape) * BYTES[dtype];
    if (offsets[1] - offsets[0] !== size || dataStart + offsets[1] > buf.length) {
      throw new InputError(source, `tensor ${name}: data offsets [${offsets}] do not fit shape [${shape}] ${dtype} (file truncated?)`);
    }
    // Copy so that each tensor owns an aligned buffer (the file buffer's offsets need not be aligned).
    const bytes = new Uint8Array(size);
    bytes.set(buf.subarray(dataStart + offsets[0], dataStart + offsets[1]));
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
    if (readSync(fd, len, 0, 8, 0) !== 8) throw new InputError(path, "not a safetensors file (shorter than 8 bytes)");
    const n = Number(len.readBigUInt64LE(0));
    if (n > 100_000_000) throw new InputError(path, `not a safetensors file (header length ${n})`);
    const head = Buffer.alloc(8 + n);
    len.copy(head);
    readSync(fd, head, 8, n, 8);
    return (parseHeader(head, path).header.__metadata__ as Record<string, string> | undefined) ?? {};
  } finally {
    closeSync(fd);
  }
}

function parseHeader(buf: Buffer, source: string): { header: Record<string, unknown>; dataStart: number } {
  if (buf.length < 8) throw new InputError(source, "not a safetensors file (shorter than 8 bytes)");
  const n = Number(buf.readBigUInt64LE(0));
  if (n > 100_000_000 || 8 + n > buf.length) throw new InputError(source, `not a safetensors file (header length ${n}, file ${buf.length} bytes)`);
  const text = buf.subarray(8, 8 + n).toString("utf8");
  if (!text.startsWith("{")) throw new InputError(source, "not a safetensors file (header is not JSON)");
  try {
    return { header: JSON.parse(text) as Record<string, unknown>, dataStart: 8 + n };
  } catch (err) {
    throw new InputError(source, `corrupt safetensors header (${(err as Error).message})`);
  }
}

/**
 * Writes a file so that a reader never sees it half-written: a temporary file in the same directory,
 * fsync, then rename over the target (atomic on POSIX file systems).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

// IEEE half and bfloat16 conversions (round to nearest even).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0] as number;
}

function floatToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  if (Number.isNaN(v)) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  let m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    m |= 0x800000;
    const shift = 14 - exp;
    const half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let half = (exp << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
