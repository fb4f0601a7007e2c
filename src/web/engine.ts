// The page's engine: onnxruntime-web (the same version as onnxruntime-node, package.json) runs the model
// package and the Silero VAD model through the shared runner and segmenter (src/infer/ort-runner.ts,
// src/infer/segmenters.ts; the VAD window by window, ./silero-windows.ts). WebAssembly with SIMD, on several threads when the page is cross-origin
// isolated (SharedArrayBuffer needs it: onnxruntime.ai/docs/tutorials/web/env-flags-and-session-options.html);
// the wasm files come from the page's own server (`nast serve`: /ort/).
import * as ort from "onnxruntime-web/wasm";
import { OrtBatchRunner, checkNastSession } from "../infer/ort-runner.ts";
import type { BatchOutput, BatchRunner, Features, OutputReads } from "../infer/batch-runner.ts";
import { SileroSegmenter } from "../infer/segmenters.ts";
import { SileroWindowModel, checkSileroSession } from "./silero-windows.ts";
import type { FetchedModel } from "./model-fetch.ts";

export interface Engine {
  runner: BatchRunner;
  segmenter: SileroSegmenter;
  /** What runs the model, in words (shown on the page). */
  backend: string;
  threads: number;
}

/** Threads for onnxruntime-web: `wanted`, else all cores (at most 8), but 1 without cross-origin isolation. */
export function engineThreads(wanted: number | undefined): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, wanted ?? Math.min(8, navigator.hardwareConcurrency || 1));
}

export async function createEngine(pkg: FetchedModel, vadModel: Uint8Array, wasmBase: string, threads: number): Promise<Engine> {
  ort.env.wasm.wasmPaths = wasmBase;
  ort.env.wasm.numThreads = threads;
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ["wasm"], graphOptimizationLevel: "all", executionMode: "sequential", interOpNumThreads: 1 };
  const session = await ort.InferenceSession.create(pkg.onnx, options);
  checkNastSession(session, "model.onnx");
  // One thread for the VAD, as src/infer/vad.ts: the network is tiny.
  const vad = await ort.InferenceSession.create(vadModel, { ...options, intraOpNumThreads: 1 });
  checkSileroSession(vad, "silero_vad.onnx");
  const runner = new OrtBatchRunner(ort, session, pkg.inputDim, pkg.model.cfg.vocabSize);
  return { runner: new PaintingRunner(runner), segmenter: new SileroSegmenter(new SileroWindowModel(ort, vad, "silero_vad.onnx")), backend: `wasm (SIMD, ${threads} thread${threads === 1 ? "" : "s"})`, threads };
}

/**
 * The wasm kernels run on the page's thread: yielding to the event loop before each batch lets the
 * browser paint the segments and progress of the batch before (a resolved promise alone does not).
 */
class PaintingRunner implements BatchRunner {
  constructor(private readonly inner: BatchRunner) {}

  async run(items: readonly Features[], reads?: OutputReads): Promise<BatchOutput> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return this.inner.run(items, reads);
  }
}
