// The element types of the tensors nast stores (safetensors checkpoints, ONNX initializers, libtorch tensors)
// under their common names, and the one table of their sizes in bytes. Each format's own names map onto
// these: safetensors' F32… (src/formats/safetensors.ts), ONNX's TensorProto.DataType (src/formats/onnx-proto.ts)
// and c10::ScalarType (src/torch/dtype.ts).

export type ElementType = "float32" | "float64" | "float16" | "bfloat16" | "int64" | "int32" | "int8" | "uint8" | "bool";

export const ELEMENT_BYTES: Readonly<Record<ElementType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};
