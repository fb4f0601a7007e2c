// The onnxruntime-node session(s) of a model package, behind the translator's engine interfaces
// (./batch-runner.ts): CTC-NAST's one graph, or the autoregressive model's encoder and decoder-step graphs. onnxruntime-node is imported here only, lazily, so that commands that
// never translate do not load its native library; the browser page runs ./ort-runner.ts on onnxruntime-web.
import type { InferenceSession } from "onnxruntime-node";
import type * as OrtNode from "onnxruntime-node";
import { ModelPackageError, type ModelPackage } from "../formats/model-package.ts";
import { isArConfig } from "../model/config.ts";
import { OrtBatchRunner, checkNastSession } from "./ort-runner.ts";
import { OrtArRunner, checkArSessions } from "./ar-runner.ts";
import { createCachedSession, type CacheOutcome } from "./session-cache.ts";

export interface SessionOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Where optimized graphs are cached (./session-cache.ts); undefined: no cache. */
  cacheDir?: string;
  /**
   * Whether idle intra-op threads spin waiting for the next run (onnxruntime's default: true). Off where
   * sessions take turns on the same cores (`nast bench speedup`, unless --spin): the spinning threads of the
   * session that just ran take CPU from the next one (docs/model.md §10.5). `nast translate` keeps the default:
   * its one network session runs segment after segment.
   */
  spinning?: boolean;
}

/**
 * The options of every native session. `session.x64quantprecision`: on x86 CPUs without VNNI, MLAS's u8s8
 * int8 kernel sums byte products in saturating 16-bit pairs (VPMADDUBSW; 255 · 127 · 2 > 32767), so an int8
 * package's products could be off there; this option makes onnxruntime take the exact u8u8 kernels on such
 * CPUs only (onnxruntime_session_options_config_keys.h), and changes nothing where VNNI is present.
 */
function nativeOptions(opts: SessionOptions): InferenceSession.SessionOptions {
  const session: Record<string, string> = { x64quantprecision: "1" };
  // The same header's "session.intra_op.allow_spinning".
  if (opts.spinning === false) session["intra_op.allow_spinning"] = "0";
  const options: InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    interOpNumThreads: 1,
    extra: { session },
  };
  if (opts.threads !== undefined) options.intraOpNumThreads = opts.threads;
  return options;
}

/** onnxruntime-node, loaded on first use only. */
function onnxruntime(): Promise<typeof OrtNode> {
  return import("onnxruntime-node");
}

async function sessionOf(ort: typeof OrtNode, bytes: Uint8Array, path: string, opts: SessionOptions): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, nativeOptions(opts));
  } catch (err) {
    throw new ModelPackageError(`${path}: onnxruntime cannot load it (${(err as Error).message}); re-export it with \`nast export CKPT -o MODEL_DIR\``);
  }
}

/** The engine of any model package: a NastSession, or for an autoregressive model an OrtArRunner. */
export async function openSession(pkg: ModelPackage, opts: SessionOptions = {}): Promise<NastSession | OrtArRunner> {
  const { cfg } = pkg;
  if (!isArConfig(cfg)) return NastSession.create(pkg, opts);
  const ort = await onnxruntime();
  const encoder = await sessionOf(ort, pkg.onnx, `${pkg.dir}/model.onnx`, opts);
  const decoder = await sessionOf(ort, pkg.decoderOnnx!, `${pkg.dir}/decoder.onnx`, opts);
  try {
    checkArSessions(encoder, decoder, cfg.decoder.layers, pkg.dir);
  } catch (err) {
    throw new ModelPackageError((err as Error).message);
  }
  return new OrtArRunner(ort, encoder, decoder, { inputDim: cfg.inputDim, vocabSize: cfg.vocabSize, layers: cfg.decoder.layers, heads: cfg.heads, headDim: cfg.dModel / cfg.heads });
}

/** onnxruntime-node's session of a CTC-NAST model package (./ort-runner.ts runs it). */
export class NastSession extends OrtBatchRunner {
  static async create(pkg: ModelPackage, opts: SessionOptions = {}): Promise<NastSession> {
    const ort = await onnxruntime();
    const options = nativeOptions(opts);
    let session: InferenceSession;
    let cache: CacheOutcome;
    try {
      ({ session, cache } = await createCachedSession({ ort, model: () => pkg.onnx, options, dir: opts.cacheDir, ...(pkg.onnxFile ? { modelFile: pkg.onnxFile } : {}) }));
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
