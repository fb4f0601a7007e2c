// Reading a checkpoint for export: its tensors as the element types the ONNX graph stores. The safetensors
// parsing itself is src/formats/safetensors.ts (plain TypeScript, no libtorch), the same code that wrote the file.
import { readSafetensors, toFloat64, type HostTensor } from "../formats/safetensors.ts";
import type { DType } from "../formats/onnx-proto.ts";
import { resolveSafetensorsPath } from "../formats/checkpoint-path.ts";

/** A tensor of a state dict: little-endian element bytes in C order. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

export interface Checkpoint {
  path: string;
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** Float parameters become float32 (bf16/f16/f64 checkpoints are widened or narrowed); integers stay. */
function stored(t: HostTensor): StoredTensor {
  switch (t.dtype) {
    case "F32":
      return { dtype: "float32", shape: t.shape, data: t.bytes };
    case "I64":
      return { dtype: "int64", shape: t.shape, data: t.bytes };
    case "I32":
      return { dtype: "int32", shape: t.shape, data: t.bytes };
    case "U8":
      return { dtype: "uint8", shape: t.shape, data: t.bytes };
    case "BOOL":
      return { dtype: "bool", shape: t.shape, data: t.bytes };
    case "F16":
    case "BF16":
    case "F64":
      return { dtype: "float32", shape: t.shape, data: new Uint8Array(Float32Array.from(toFloat64(t)).buffer) };
  }
}

export function readCheckpoint(path: string): Checkpoint {
  const file = resolveSafetensorsPath(path);
  const st = readSafetensors(file);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, t] of st.tensors) tensors.set(name, stored(t));
  return { path: file, tensors, metadata: st.metadata };
}

/** The state dict as the safetensors writer's host tensors (float32 only), e.g. to save a random-init model. */
export function toHostTensors(state: ReadonlyMap<string, StoredTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of state) {
    if (t.dtype !== "float32") throw new Error(`toHostTensors: ${name} is ${t.dtype}, not float32`);
    out.set(name, { dtype: "F32", shape: t.shape, bytes: t.data });
  }
  return out;
}
