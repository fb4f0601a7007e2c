// Loads kernels/build/nast_torch.node, the N-API binding to libtorch (kernels/src/nast_torch.cc), on first
// use. This is the only module that touches the .node file, so `npm ci` without libtorch leaves every
// other command working; only code that actually runs a tensor op pays for (or fails on) the load.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../util/package-root.ts";

/** The functions kernels/src/nast_torch.cc exports. Tensors are slot numbers owned by the C++ side. */
export interface Native {
  opHandle(name: string, overload: string): number;
  opSchema(op: number): string;
  call(op: number, args: unknown[]): unknown;
  fromData(bytes: ArrayBufferView, dtype: number, shape: number[], device: string): number;
  toData(id: number): ArrayBuffer;
  shape(id: number): number[];
  dtype(id: number): number;
  device(id: number): string;
  item(id: number): number | boolean;
  free(id: number): void;
  live(): number;
  requiresGrad(id: number): boolean;
  setRequiresGrad(id: number, on: boolean): void;
  grad(id: number): number | null;
  setGrad(id: number, grad: number | null): void;
  backward(id: number, grad: number | null, retainGraph: boolean): void;
  gradEnabled(): boolean;
  setGradEnabled(on: boolean): void;
  manualSeed(seed: number): void;
  setNumThreads(n: number): void;
  numThreads(): number;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  synchronize(): void;
  setTF32(on: boolean): void;
  setAutocast(on: boolean, dtype: number): void;
  version(): string;
  config(): string;
  benchMatmul(n: number, iters: number, device: string): number;
  benchAdd(iters: number): number;
  distBackends(): string[];
  distInit(backend: string, storeKind: "tcp" | "file", where: string, port: number, rank: number, size: number, timeoutMs: number, glooHost: string): number;
  distAllReduce(group: number, tensors: number[], op: "sum" | "max"): number;
  distBroadcast(group: number, tensors: number[], root: number): number;
  distBarrier(group: number): number;
  distWait(work: number, timeoutMs: number): void;
  distDestroy(group: number): void;
}

/** Thrown when the kernels are not built or cannot be loaded; the message says how to set them up. */
export class KernelsUnavailableError extends Error {
  override name = "KernelsUnavailableError";
}

let loaded: Native | undefined;

/** kernels/build/nast_torch.node under the package root, or NAST_KERNELS when set (another build). */
export function kernelsPath(): string {
  return process.env.NAST_KERNELS ?? join(packageRoot(), "kernels", "build", "nast_torch.node");
}

const SETUP =
  "Training needs libtorch and the nast kernels: on Debian 12 run " +
  "`sudo apt-get install libtorch-dev libopenblas0-pthread` and then `npm run build:kernels` " +
  "(or set LIBTORCH=<libtorch root> before building).";

export function native(): Native {
  if (loaded !== undefined) return loaded;
  const path = kernelsPath();
  if (!existsSync(path)) {
    throw new KernelsUnavailableError(`the libtorch kernels are not built (${path} is missing). ${SETUP}`);
  }
  try {
    loaded = createRequire(import.meta.url)(path) as Native;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new KernelsUnavailableError(`cannot load ${path}: ${why}. ${SETUP}`);
  }
  return loaded;
}
