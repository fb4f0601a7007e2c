// Tensor element types: their c10::ScalarType codes (stable across libtorch 1.x and 2.x), byte sizes and
// the typed arrays that carry their elements in and out.
import { ELEMENT_BYTES } from "../formats/dtype.ts";

export type DType = "float32" | "float64" | "float16" | "bfloat16" | "int64" | "int32" | "uint8" | "bool";

export const DTYPE_CODE: Record<DType, number> = {
  uint8: 0,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

export function dtypeFromCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (d === undefined) throw new Error(`unsupported libtorch scalar type code ${code}`);
  return d;
}

/** float16 and bfloat16 travel as their raw 16-bit patterns. */
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export function isFloating(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "float16" || d === "bfloat16";
}

/** The typed array view of raw little-endian element bytes. */
export function viewBytes(buf: ArrayBuffer, dtype: DType): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "uint8":
    case "bool":
      return new Uint8Array(buf);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buf);
  }
}

/** The dtype a typed array carries when none is named. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Uint8Array) return "uint8";
  throw new Error("a Uint16Array needs an explicit dtype (float16 or bfloat16)");
}

/** Numbers (or booleans) into the typed array of `dtype`. */
export function arrayOf(values: ArrayLike<number | boolean | bigint>, dtype: DType): TypedArray {
  const n = values.length;
  switch (dtype) {
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number | bigint);
      return out;
    }
    case "float16":
    case "bfloat16":
      throw new Error(`create ${dtype} tensors from float32 data, then convert with .to("${dtype}")`);
    default: {
      const out = viewBytes(new ArrayBuffer(n * ELEMENT_BYTES[dtype]), dtype) as Float32Array;
      for (let i = 0; i < n; i++) out[i] = Number(values[i]);
      return out;
    }
  }
}
