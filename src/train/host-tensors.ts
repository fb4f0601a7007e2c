// Copies between libtorch tensors (any device) and the host tensors that checkpoint files hold.
import { tensor, type Tensor } from "../torch/index.ts";
import { stDtypeOf, type HostTensor } from "../formats/safetensors.ts";

export function toHost(t: Tensor): HostTensor {
  const dtype = stDtypeOf(t.dtype);
  if (dtype === undefined) throw new Error(`checkpoint: cannot store a ${t.dtype} tensor`);
  return { dtype, shape: t.shape, bytes: t.bytes() };
}

export function toHostMap(tensors: Map<string, Tensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) out.set(name, toHost(t));
  return out;
}

/** A host tensor on `device` (float32 and int64 only: what the model and optimizer hold). */
export function fromHost(h: HostTensor, device: string, source: string): Tensor {
  const n = h.shape.reduce((a, b) => a * b, 1);
  const copy = h.bytes.slice(); // own, aligned buffer
  switch (h.dtype) {
    case "F32":
      return tensor(new Float32Array(copy.buffer, 0, n), { shape: h.shape, dtype: "float32", device });
    case "I64":
      return tensor(new BigInt64Array(copy.buffer, 0, n), { shape: h.shape, dtype: "int64", device });
    default:
      throw new Error(`${source}: tensor of dtype ${h.dtype}; training checkpoints hold F32 and I64 only`);
  }
}
