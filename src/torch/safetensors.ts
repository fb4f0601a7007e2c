// Named tensors to and from the safetensors format (huggingface/safetensors README; ../shared/reference/
// ecosystem.md §6): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the tensors'
// little-endian C-order bytes, offsets relative to the end of the header. The header is padded with spaces
// to a multiple of 8 bytes so that every payload is aligned, as the reference writer does.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { DType } from "./dtype.ts";
import { DTYPE_BYTES } from "./dtype.ts";
import { Tensor, type Device } from "./tensor.ts";

const TO_ST: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  uint8: "U8",
  bool: "BOOL",
};
const FROM_ST = new Map<string, DType>(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

const MAX_HEADER = 100_000_000;

/** The file's bytes for named tensors (any device; copied to the host). */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error(`safetensors: "__metadata__" cannot name a tensor`);
    const bytes = t.bytes();
    header[name] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    payloads.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const len = Buffer.byteLength(json);
  json += " ".repeat((8 - (len % 8)) % 8);
  const head = Buffer.from(json, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([prefix, head, ...payloads]);
}

/** Named tensors from a safetensors file's bytes, created on `device`. `source` names the file in errors. */
export function decodeSafetensors(
  buf: Uint8Array,
  source: string,
  device: Device = "cpu",
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const bad = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) bad("shorter than 8 bytes");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) bad(`header length ${n} exceeds the file`);
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString("utf8");
  if (!text.startsWith("{")) bad("header does not start with '{'");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return bad(`header is not JSON (${(err as Error).message})`);
  }
  const data = buf.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, info] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const { dtype, shape, data_offsets: offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const dt = FROM_ST.get(dtype);
      if (dt === undefined) bad(`tensor "${name}" has unsupported dtype ${dtype}`);
      const [begin, end] = offsets;
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dt!];
      if (end - begin !== expected || begin < 0 || end > data.length) {
        bad(`tensor "${name}" has offsets [${begin}, ${end}] for ${expected} bytes in a ${data.length}-byte payload`);
      }
      // Copy to an aligned buffer: typed views need element alignment and the binding copies anyway.
      const bytes = new Uint8Array(data.subarray(begin, end));
      tensors.set(name, Tensor.fromBytes(bytes, shape, dt!, device));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

/** Writes atomically (temporary file, fsync, rename): a crash never leaves a half-written file. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function loadSafetensors(path: string, device: Device = "cpu"): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path, device);
}
