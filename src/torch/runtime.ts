// Process-wide libtorch settings: gradient mode, seeds, threads, CUDA switches.
import { DTYPE_CODE } from "./dtype.ts";
import { native } from "./native.ts";

/** Runs `fn` with gradient recording off (restored afterwards, also on throw). */
export function noGrad<T>(fn: () => T): T {
  const n = native();
  const prev = n.gradEnabled();
  n.setGradEnabled(false);
  try {
    return fn();
  } finally {
    n.setGradEnabled(prev);
  }
}

/** Runs `fn` with gradient recording on. */
export function enableGrad<T>(fn: () => T): T {
  const n = native();
  const prev = n.gradEnabled();
  n.setGradEnabled(true);
  try {
    return fn();
  } finally {
    n.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native().gradEnabled();
}

/** Seeds libtorch's CPU and CUDA generators (rand, randn, dropout, bernoulli, randint). */
export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}

export function numThreads(): number {
  return native().numThreads();
}

export function cudaAvailable(): boolean {
  return native().cudaAvailable();
}

export function cudaDeviceCount(): number {
  return native().cudaDeviceCount();
}

/** Waits for all queued CUDA work (a no-op without CUDA); needed before timing GPU work. */
export function synchronize(): void {
  native().synchronize();
}

/** TF32 tensor cores for fp32 CUDA matmuls and convolutions (Ampere and newer). */
export function setTF32(on: boolean): void {
  native().setTF32(on);
}

/**
 * Runs `fn` under CUDA autocast: matmuls and convolutions in `dtype` (bfloat16 by default), reductions and
 * losses in float32, as torch.autocast does. CPU ops are unaffected.
 */
export function autocast<T>(fn: () => T, dtype: "bfloat16" | "float16" = "bfloat16"): T {
  const n = native();
  n.setAutocast(true, DTYPE_CODE[dtype]);
  try {
    return fn();
  } finally {
    n.setAutocast(false, DTYPE_CODE[dtype]);
  }
}

export function torchVersion(): string {
  return native().version();
}

/** libtorch's build configuration (at::show_config()). */
export function torchConfig(): string {
  return native().config();
}
