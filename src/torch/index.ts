// The TypeScript face of the libtorch binding. Importing this module does not load the binding; the first
// tensor operation does (src/torch/native.ts), so code paths that never touch a tensor run without libtorch.
export { Tensor, tidy, keep, disposeAll, liveTensors, call, callMany, callVoid, dt, type Device } from "./tensor.ts";
export { type DType, type TypedArray, isFloating } from "./dtype.ts";
export * from "./functional.ts";
export * from "./runtime.ts";
export { KernelsUnavailableError, kernelsPath } from "./native.ts";
export { Module, Linear, LayerNorm, Conv1d, Embedding, BatchNorm1d, Dropout } from "./nn.ts";
export { Adam, AdamW, clipGradNorm, type AdamOptions, type ParamSource } from "./optim.ts";
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from "./safetensors.ts";
