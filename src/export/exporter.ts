// `nast export`: a checkpoint (safetensors state dict + "nast.config" metadata, src/train/checkpoint.ts)
// becomes a model package MODEL_DIR/{model.onnx, spm.model, config.json, MODEL_CARD.md}. The ONNX graph is
// the model's own forward (src/model/nast.ts) run by OnnxOps in eval mode ("one model definition, two
// executions", docs/design.md §5.3), with symbolic batch (B) and time (T) axes. An autoregressive checkpoint
// ("arch": "ar") becomes model.onnx (its encoder) and decoder.onnx (one decoder step), ./ar-export.ts.
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { CONFIG_KEY } from "../formats/nast-metadata.ts";
import { basename, dirname, join, resolve } from "node:path";
import { embeddedModelConfig, isArConfig, type EncoderConfig, type ModelConfig, type NastConfig } from "../model/config.ts";
import { forward } from "../model/nast.ts";
import { checkParams, paramSpecs } from "../model/params.ts";
import { GraphBuilder, type Value } from "./graph.ts";
import { BLANK } from "../infer/ctc.ts";
import { arModelCard, modelCard } from "./model-card.ts";
import { buildArOnnxModels } from "./ar-export.ts";
import { OnnxOps } from "./onnx-ops.ts";
import { modelProto } from "../formats/onnx-proto.ts";
import { readCheckpoint, type StoredTensor } from "./checkpoint.ts";
import { UsageError } from "../util/errors.ts";
import { INPUTS, OUTPUTS } from "../infer/model-io.ts";
import { INT8_SCOPES, type Int8Scope } from "./int8.ts";

export const PACKAGE_FORMAT = "1";

/** Seconds per output frame: 10 ms fbank hop × 2 per subsampling layer (40 ms for 2 layers). */
export function frameSeconds(cfg: EncoderConfig): number {
  return 0.01 * 2 ** cfg.subsampler.layers;
}

export interface BuildOptions {
  /** Weights not stored as int8 are stored as float16 (cast to float32 when the model loads). */
  fp16?: boolean;
  /** Weights as int8 and their products in integers (./int8.ts), for the products of `int8Scope`. */
  int8?: boolean;
  /** What int8 covers (default: all of INT8_SCOPES). */
  int8Scope?: readonly Int8Scope[];
  /** Extra ONNX metadata_props. */
  metadata?: Record<string, string>;
}

export interface BuiltModel {
  chunks: Uint8Array[];
  bytes: number;
  nodes: number;
  /** Parameters (elements) stored in the graph. */
  parameters: number;
}

/** The products an export takes in integers. */
export function int8Products(opts: { int8?: boolean; int8Scope?: readonly Int8Scope[] }): ReadonlySet<Int8Scope> {
  return new Set(opts.int8 ? (opts.int8Scope ?? INT8_SCOPES) : []);
}

/** What `nast.weights` says of the stored weights: "float32", "float16", "int8+float32" or "int8+float16". */
export function weightsLabel(opts: { fp16?: boolean; int8?: boolean }): string {
  const rest = opts.fp16 ? "float16" : "float32";
  return opts.int8 ? `int8+${rest}` : rest;
}

/** The ONNX model of `cfg` with the weights of `state`, serialized. */
export function buildOnnxModel(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, opts: BuildOptions = {}): BuiltModel {
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state, { fp16Weights: opts.fp16, int8: int8Products(opts) });
  const feats = g.input(INPUTS.feats, "float32", ["B", "T", cfg.inputDim]);
  const lengths = g.input(INPUTS.lengths, "int64", ["B"]);
  const out = forward(ops, cfg, feats, lengths);
  // Named as the output it is, so that no Identity copies the (B, T', V) tensor on every run (onnxruntime runs every
  // node, fetched or not).
  const [logProbs] = g.node("LogSoftmax", [out.tgtLogits], { axis: 2 }, ["float32"], ["tgt_log_probs" satisfies (typeof OUTPUTS)[number]]) as [Value];
  // The two most likely tokens per frame (TopK orders equal values by index, as ArgMax takes the first): the first
  // is the greedy choice; the blank's log-probability and the best other token are what a blank penalty decides
  // between (src/infer/ctc.ts greedyDecodeAlternatives), so that it need not read the (B, T', V) log-probabilities.
  if (cfg.vocabSize < 2) throw new Error(`a vocabulary of ${cfg.vocabSize} has no token besides the blank`);
  const [topScores, topIds] = g.node("TopK", [logProbs, g.ints([2])], { axis: 2, largest: 1, sorted: 1 }, ["float32", "int64"]) as [Value, Value];
  const first = g.scalar("int64", 0);
  const second = g.scalar("int64", 1);
  const [bestId, nextId] = [ops.gather(topIds, first, 2), ops.gather(topIds, second, 2)]; // (B,T')
  const [bestScore, nextScore] = [ops.gather(topScores, first, 2), ops.gather(topScores, second, 2)];
  const blankFirst = g.op("Equal", [bestId, g.scalar("int64", BLANK)], {}, "bool");
  const values = {
    tgt_ids: bestId,
    tgt_scores: bestScore,
    src_ids: ops.argmax(out.srcLogits, 2),
    out_lengths: out.outLengths,
    tgt_blank_scores: ops.gather(logProbs, g.scalar("int64", BLANK), 2),
    tgt_alt_ids: ops.where(blankFirst, nextId, bestId),
    tgt_alt_scores: ops.where(blankFirst, nextScore, bestScore),
    tgt_log_probs: logProbs,
  };
  const frames = ["B", "T_out"];
  const dims = { tgt_ids: frames, tgt_scores: frames, src_ids: frames, out_lengths: ["B"], tgt_blank_scores: frames, tgt_alt_ids: frames, tgt_alt_scores: frames, tgt_log_probs: ["B", "T_out", cfg.vocabSize] };
  for (const name of OUTPUTS) g.output(values[name], name, dims[name]);
  let parameters = 0;
  for (const name of ops.used) parameters += state.get(name)!.shape.reduce((a, b) => a * b, 1);
  const metadata: Record<string, string> = {
    "nast.format": PACKAGE_FORMAT,
    [CONFIG_KEY]: JSON.stringify(cfg),
    "nast.vocab_size": String(cfg.vocabSize),
    "nast.frame_seconds": String(frameSeconds(cfg)),
    "nast.weights": weightsLabel(opts),
    ...(opts.int8 ? { "nast.int8": [...int8Products(opts)].join(",") } : {}),
    "nast.parameters": String(parameters),
    ...opts.metadata,
  };
  const def = g.model({ graphName: "nast", metadata, producerVersion: "0.1.0", docString: "CTC-NAST speech translation (nast export)" });
  const chunks = modelProto(def);
  return { chunks, bytes: chunks.reduce((a, c) => a + c.length, 0), nodes: def.nodes.length, parameters };
}

export interface ExportOptions {
  checkpoint: string;
  outDir: string;
  /** SentencePiece model; default: spm.model next to the checkpoint or up to two directories above it. */
  spm?: string;
  fp16?: boolean;
  int8?: boolean;
  int8Scope?: readonly Int8Scope[];
  /** Replace the package already in outDir (default: refuse, keeping it). */
  force?: boolean;
  /** The package's default blank penalty (config.json "decoding"), replacing what the checkpoint's config says. */
  blankPenalty?: number;
}

export interface ExportResult {
  modelPath: string;
  bytes: number;
  nodes: number;
  parameters: number;
  config: ModelConfig;
  spm: string;
}

/**
 * The SentencePiece model that belongs to a checkpoint: `explicit`, else spm.model in the checkpoint's
 * directory or up to two above it, else DATA_DIR/spm.model of the run that wrote it (the "data" of the
 * "start" event in EXP_DIR/train.log.jsonl, src/train).
 */
export function findSpm(checkpoint: string, explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new Error(`${explicit}: no such SentencePiece model`);
    return explicit;
  }
  const dirs: string[] = [];
  for (let dir = dirname(resolve(checkpoint)), i = 0; i < 3; i++, dir = dirname(dir)) dirs.push(dir);
  for (const dir of dirs) if (existsSync(join(dir, "spm.model"))) return join(dir, "spm.model");
  for (const dir of dirs.slice(0, 2)) {
    const log = join(dir, "train.log.jsonl");
    if (!existsSync(log)) continue;
    const first = readFileSync(log, "utf8").split("\n", 1)[0]!;
    try {
      const start = JSON.parse(first) as { event?: string; data?: unknown };
      if (start.event === "start" && typeof start.data === "string" && existsSync(join(start.data, "spm.model"))) return join(start.data, "spm.model");
    } catch {
      // Not a log we can read: fall through to the error below.
    }
  }
  throw new Error(`${checkpoint}: no spm.model found next to the checkpoint, above it or in its training log; pass --spm DATA_DIR/spm.model (written by nast prep)`);
}

/** Writes chunks to `path` atomically (src/formats/atomic-file.ts), so that a failed export leaves no half model.onnx. */
function writeChunks(path: string, chunks: Uint8Array[]): void {
  try {
    writeFileAtomic(path, chunks);
  } catch (err) {
    throw new Error(`${path}: could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * -o names the package directory: a file in its place (or in the way of it) is an error that says so, a
 * link is refused (an export must not land wherever it points, e.g. in the shipped models/default), and an
 * existing package is kept unless `force`.
 */
function checkOutDir(dir: string, force: boolean): void {
  let isDir: boolean;
  let isLink = false;
  try {
    isLink = lstatSync(dir).isSymbolicLink();
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return; // created by the export
    if (code === "ENOTDIR") throw new Error(`${dir}: cannot create the model package directory there: a part of that path is a file, not a directory; choose another -o MODEL_DIR`);
    throw new Error(`${dir}: cannot use it as the model package directory (${code ?? (err as Error).message})`);
  }
  if (isLink) throw new Error(`${dir}: is a symbolic link; -o takes a real directory (an export never writes through a link)`);
  if (!isDir) throw new Error(`${dir}: exists and is not a directory; -o names the model package directory (created if missing): remove the file or choose another -o MODEL_DIR`);
  if (!force && existsSync(join(dir, "model.onnx"))) {
    throw new Error(`${dir}: already holds a model package (model.onnx); it is kept as it is: choose another -o MODEL_DIR, or pass --force to replace it`);
  }
}

export function exportModel(opts: ExportOptions): ExportResult {
  checkOutDir(opts.outDir, opts.force === true);
  const ckpt = readCheckpoint(opts.checkpoint);
  const cfg = embeddedModelConfig(ckpt.metadata, ckpt.path);
  if (cfg === null) {
    throw new Error(`${ckpt.path}: the checkpoint has no "nast.config" metadata (was it written by nast train or nast average?)`);
  }
  checkParams(paramSpecs(cfg), ckpt.tensors, ckpt.path, { ignoreExtra: true });
  const spm = findSpm(ckpt.path, opts.spm);
  if (opts.blankPenalty !== undefined && isArConfig(cfg)) {
    throw new UsageError(`--blank-penalty: ${ckpt.path} is an autoregressive model, whose decoder has no CTC blank to lower`);
  }
  // Only config.json carries the decoding default (the graph's embedded config describes weights, and a
  // package's check of the two leaves "decoding" out: src/formats/model-package.ts), so it is tuned after training.
  const packaged = opts.blankPenalty === undefined ? cfg : { ...cfg, decoding: { blankPenalty: opts.blankPenalty } };

  const metadata: Record<string, string> = { "nast.checkpoint": basename(ckpt.path) };
  for (const key of ["nast.step", "nast.dev_bleu"]) if (ckpt.metadata[key] !== undefined) metadata[key] = ckpt.metadata[key]!;
  const buildOpts = { fp16: opts.fp16, int8: opts.int8, int8Scope: opts.int8Scope, metadata };
  const ar = isArConfig(cfg) ? buildArOnnxModels(cfg, ckpt.tensors, buildOpts) : null;
  const built = ar?.encoder ?? buildOnnxModel(cfg as NastConfig, ckpt.tensors, buildOpts);

  try {
    mkdirSync(opts.outDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${opts.outDir}: cannot create the model package directory (${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : (code ?? (err as Error).message)}); choose another -o MODEL_DIR`);
  }
  const modelPath = join(opts.outDir, "model.onnx");
  writeChunks(modelPath, built.chunks);
  if (ar !== null) writeChunks(join(opts.outDir, "decoder.onnx"), ar.decoder.chunks);
  writeChunks(join(opts.outDir, "spm.model"), [readFileSync(spm)]);
  writeChunks(join(opts.outDir, "config.json"), [Buffer.from(`${JSON.stringify(packaged, null, 2)}\n`)]);
  // The encoder's cross-attention projections are the decoder's parameters, so the two graphs share no weight.
  const parameters = built.parameters + (ar?.decoder.parameters ?? 0);
  const bytes = built.bytes + (ar?.decoder.bytes ?? 0);
  const nodes = built.nodes + (ar?.decoder.nodes ?? 0);
  const card = { checkpoint: ckpt.path, metadata: ckpt.metadata, parameters, bytes, weights: weightsLabel(opts), int8: [...int8Products(opts)] };
  writeChunks(join(opts.outDir, "MODEL_CARD.md"), [Buffer.from(isArConfig(cfg) ? arModelCard({ ...card, cfg }) : modelCard({ ...card, cfg }))]);
  return { modelPath, bytes, nodes, parameters, config: cfg, spm };
}
