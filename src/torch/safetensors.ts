// Named Tensors to and from safetensors files. The format itself (header, offsets, metadata, errors naming
// the file, atomic write, dtype names) is src/formats/safetensors.ts, the one codec of the project; this module
// only turns Tensors to and from their little-endian C-order bytes.
import { readFileSync } from "node:fs";
import { decodeSafetensors as decodeHost, encodeSafetensors as encodeHost, elementOf, stDtypeOf, type HostTensor, writeSafetensors } from "../formats/safetensors.ts";
import type { DType } from "./dtype.ts";
import { Tensor, type Device } from "./tensor.ts";


/** Host copies of the tensors (any device), in the same order. */
function toHost(tensors: Map<string, Tensor>): Map<string, HostTensor> {
  const host = new Map<string, HostTensor>();
  for (const [name, t] of tensors) host.set(name, { dtype: stDtypeOf(t.dtype)!, shape: t.shape.slice(), bytes: t.bytes() });
  return host;
}

/** The file's bytes for named tensors (any device; copied to the host). */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  return encodeHost(toHost(tensors), metadata);
}

/** Named tensors from a safetensors file's bytes, created on `device`. `source` names the file in errors. */
export function decodeSafetensors(
  buf: Uint8Array,
  source: string,
  device: Device = "cpu",
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const host = decodeHost(buf, source);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, t] of host.tensors) {
      // The torch dtypes are exactly the element types that safetensors dtypes name (src/formats/safetensors.ts).
      tensors.set(name, Tensor.fromBytes(t.bytes, t.shape, elementOf(t.dtype) as DType, device));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: host.metadata };
}

/** Writes atomically (temporary file, fsync, rename): a crash never leaves a half-written file. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeSafetensors(path, toHost(tensors), metadata);
}

export function loadSafetensors(path: string, device: Device = "cpu"): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path, device);
}
