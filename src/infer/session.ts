// The onnxruntime-node session of a model package, behind the translator's engine interface
// (./batch-runner.ts). onnxruntime-node is imported here only, lazily, so that commands that
// never translate do not load its native library; the browser page runs ./ort-runner.ts on onnxruntime-web.
import type { InferenceSession } from "onnxruntime-node";
import { ModelPackageError, type ModelPackage } from "../formats/model-package.ts";
import { OrtBatchRunner, checkNastSession } from "./ort-runner.ts";
import { createCachedSession, type CacheOutcome } from "./session-cache.ts";

export interface SessionOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Where optimized graphs are cached (./session-cache.ts); undefined: no cache. */
  cacheDir?: string;
}

/** onnxruntime-node's session of a model package (./ort-runner.ts runs it). */
export class NastSession extends OrtBatchRunner {
  static async create(pkg: ModelPackage, opts: SessionOptions = {}): Promise<NastSession> {
    const ort = await import("onnxruntime-node");
    const options: InferenceSession.SessionOptions = { graphOptimizationLevel: "all", executionMode: "sequential", interOpNumThreads: 1 };
    if (opts.threads !== undefined) options.intraOpNumThreads = opts.threads;
    let session: InferenceSession;
    let cache: CacheOutcome;
    try {
      ({ session, cache } = await createCachedSession({ ort, model: pkg.onnx, options, dir: opts.cacheDir, ...(pkg.onnxFile ? { modelFile: pkg.onnxFile } : {}) }));
    } catch (err) {
      throw new ModelPackageError(`${pkg.dir}/model.onnx: onnxruntime cannot load it (${(err as Error).message}); re-export it with \`nast export CKPT -o MODEL_DIR\``);
    }
    try {
      checkNastSession(session, `${pkg.dir}/model.onnx`);
    } catch (err) {
      await session.release();
      throw new ModelPackageError((err as Error).message);
    }
    return new NastSession(ort, session, pkg.cfg.inputDim, pkg.cfg.vocabSize, cache);
  }

  private constructor(ort: ConstructorParameters<typeof OrtBatchRunner>[0], session: InferenceSession, inputDim: number, vocab: number, readonly cache: CacheOutcome) {
    super(ort, session, inputDim, vocab);
  }
}
