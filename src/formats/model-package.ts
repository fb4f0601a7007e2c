// A model package written by `nast export`: MODEL_DIR/{model.onnx, spm.model, config.json, MODEL_CARD.md}, and for
// the autoregressive counterpart ("arch": "ar") decoder.onnx, the decoder-step graph (docs/model.md §10.4).
// Loading checks that the three files agree before anything runs: config.json = the config embedded in
// model.onnx, and the vocabulary sizes of config, graph and SentencePiece model are equal. Every problem
// is an error that names the file and says what to do.
//
// A package is untrusted input: each of its files is read only if it is a regular file of a sane size inside
// the package (no symbolic link, device, FIFO or directory in its place: readPackageFile), and model.onnx must be
// self-contained (no tensor with external data, which would make onnxruntime open a file anywhere). onnxruntime
// gets the checked bytes, never a path, so nothing outside the package is opened.
//
// Reading and walking a 30 MB model.onnx is a tenth of a short file's `nast translate`, and a session from the
// cache of optimized graphs (src/infer/session-cache.ts) never needs its bytes. So, given a memo folder
// (LoadOptions), the result of model.onnx's checks (its metadata, inputs and outputs) is remembered for the
// file's identity (./file-memo.ts): a model.onnx unchanged since it was checked is then only stat'ed, and its bytes
// are read when they are first asked for, refused unless the file is still the one that was checked.
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync, statSync, type BigIntStats } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../util/package-root.ts";
import { embeddedModelConfig, isArConfig, validateModelConfig, type ModelConfig } from "../model/config.ts";
import { SentencePiece } from "../text/sentencepiece.ts";
import { FileMemo, fileIdentity, sameIdentity, type FileIdentity } from "./file-memo.ts";
import { isOnnxInfo, readOnnxInfo, type OnnxInfo } from "./onnx-info.ts";

export class ModelPackageError extends Error {
  override name = "ModelPackageError";
}

export interface ModelPackage {
  dir: string;
  cfg: ModelConfig;
  sp: SentencePiece;
  /**
   * The bytes of model.onnx (onnxruntime loads the session from them): the whole model, or the AR encoder. When
   * its checks were remembered (LoadOptions.memoDir), it is read on first use, and a ModelPackageError if the file
   * is no longer the one checked.
   */
  readonly onnx: Uint8Array;
  /** The bytes of decoder.onnx: the decoder step of an autoregressive model. */
  decoderOnnx?: Uint8Array;
  /** Seconds per output frame of the CTC heads. */
  frameSeconds: number;
  metadata: Record<string, string>;
  /**
   * model.onnx as the file system knew it when it was checked (absent when it changed during the read):
   * src/infer/session-cache.ts hashes the bytes again only when the file is not the one it hashed before.
   */
  onnxFile?: { path: string; identity: FileIdentity };
}

export interface LoadOptions {
  /** Where the checks of model.onnx are remembered (`nast translate`: its cache directory); none: read and checked every time. */
  memoDir?: string;
}

/** The largest file of each kind a package may hold: protobuf caps a message (model.onnx) at 2 GiB. */
export const PACKAGE_FILE_LIMITS = { "model.onnx": 2 ** 31 - 1, "decoder.onnx": 2 ** 31 - 1, "spm.model": 64 * 2 ** 20, "config.json": 4 * 2 ** 20 } as const;

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;
}

/**
 * The bytes of one file of a model package, read only when it is a regular file (not a symbolic link, device,
 * FIFO or directory) of at most `maxBytes`; anything else is a ModelPackageError naming the file. The file is
 * opened without following links and without blocking, and checked again once open.
 */
export function readPackageFile(path: string, maxBytes: number, hint = "re-export it with `nast export CKPT -o MODEL_DIR`"): Buffer {
  return readPackageFileWithIdentity(path, maxBytes, hint).bytes;
}

/** The status of a package file that may be read (readPackageFile's checks before it opens the file). */
function checkPackageFile(path: string, maxBytes: number, hint: string): BigIntStats {
  const refuse = (why: string): never => {
    throw new ModelPackageError(`${path}: ${why}; ${hint}`);
  };
  let st: BigIntStats;
  try {
    st = lstatSync(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse(code === "ENOENT" ? "missing from the model package (model.onnx, spm.model, config.json)" : `cannot be read (${code ?? (err as Error).message})`);
  }
  if (st.isSymbolicLink()) return refuse("is a symbolic link; a model package holds its files themselves (copy the file in instead of linking it)");
  if (!st.isFile()) return refuse("is not a regular file (a directory, device or FIFO)");
  if (st.size > maxBytes) return refuse(`is ${mib(Number(st.size))}, more than the ${mib(maxBytes)} such a file may be`);
  return st;
}

/** readPackageFile, with the file's identity when it did not change while it was read. */
function readPackageFileWithIdentity(path: string, maxBytes: number, hint = "re-export it with `nast export CKPT -o MODEL_DIR`"): { bytes: Buffer; identity?: FileIdentity } {
  const refuse = (why: string): never => {
    throw new ModelPackageError(`${path}: ${why}; ${hint}`);
  };
  const st = checkPackageFile(path, maxBytes, hint);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return refuse(`cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const open = fstatSync(fd, { bigint: true });
    // Swapped between the check and the open: refuse rather than read something else.
    if (!open.isFile() || open.ino !== st.ino || open.dev !== st.dev) return refuse("changed while it was being opened");
    const size = Number(open.size);
    if (size > maxBytes) return refuse(`is ${mib(size)}, more than the ${mib(maxBytes)} such a file may be`);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) return refuse("shrank while it was being read");
      off += n;
    }
    const before = fileIdentity(open);
    const after = fileIdentity(fstatSync(fd, { bigint: true }));
    return sameIdentity(before, after) ? { bytes: buf, identity: after } : { bytes: buf };
  } finally {
    closeSync(fd);
  }
}

/** models/default under the package root: the model `nast translate` uses without -m. */
export function defaultModelDir(): string {
  return join(packageRoot(), "models", "default");
}

/** Canonical JSON (sorted keys) for comparing configs. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x !== null && typeof x === "object") {
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(x);
}

/**
 * model.onnx past its file checks: the facts its checks gave (OnnxInfo) when they are remembered for the file as it
 * is now, else its bytes (and the identity they were read with, unless the file changed during the read), and
 * when that read began.
 */
type CheckedOnnx = { remembered: OnnxInfo; identity: FileIdentity } | { bytes: Buffer; identity?: FileIdentity; readAt: number };

function checkOnnx(path: string, hint: string, memo: FileMemo<OnnxInfo> | undefined): CheckedOnnx {
  const limit = PACKAGE_FILE_LIMITS["model.onnx"];
  if (memo !== undefined) {
    const identity = fileIdentity(checkPackageFile(path, limit, hint));
    const remembered = memo.recall(path, identity);
    if (remembered !== undefined) return { remembered, identity };
  }
  const readAt = Date.now();
  return { ...readPackageFileWithIdentity(path, limit, hint), readAt };
}

/** model.onnx's bytes, read when first asked for, and refused unless the file is still the one of identity `checked`. */
function onnxOnDemand(path: string, hint: string, checked: FileIdentity): () => Uint8Array {
  let bytes: Uint8Array | undefined;
  return () => {
    if (bytes === undefined) {
      const read = readPackageFileWithIdentity(path, PACKAGE_FILE_LIMITS["model.onnx"], hint);
      if (read.identity === undefined || !sameIdentity(read.identity, checked)) throw new ModelPackageError(`${path}: changed after it was checked; run the command again`);
      bytes = read.bytes;
    }
    return bytes;
  };
}

export function loadModelPackage(dirArg: string | undefined, opts: LoadOptions = {}): ModelPackage {
  const dir = resolve(dirArg ?? defaultModelDir());
  if (dirArg === undefined && !existsSync(join(dir, "model.onnx"))) {
    throw new ModelPackageError(
      `no default model is installed (${dir} holds no model.onnx); pass -m MODEL_DIR, or export one there with \`nast export CKPT -o ${dir}\``,
    );
  }
  dirArg ??= dir;
  const reexport = "re-export it with `nast export CKPT -o MODEL_DIR`";
  if (!existsSync(dir)) throw new ModelPackageError(`${dirArg}: no such model directory; pass -m MODEL_DIR (a directory written by \`nast export\`)`);
  if (!statSync(dir).isDirectory()) throw new ModelPackageError(`${dirArg}: not a directory; -m takes the model directory written by \`nast export\``);
  const onnxPath = join(dir, "model.onnx");
  const spmPath = join(dir, "spm.model");
  const configPath = join(dir, "config.json");
  // Every file is checked before any is parsed.
  const memo = opts.memoDir !== undefined ? new FileMemo(join(opts.memoDir, "onnx-checks"), isOnnxInfo) : undefined;
  const onnxChecked = checkOnnx(onnxPath, reexport, memo);
  const spmBytes = readPackageFile(spmPath, PACKAGE_FILE_LIMITS["spm.model"], reexport);
  const configBytes = readPackageFile(configPath, PACKAGE_FILE_LIMITS["config.json"], reexport);

  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(configBytes.toString("utf8"));
  } catch (err) {
    throw new ModelPackageError(`${configPath}: not valid JSON (${(err as Error).message}); ${reexport}`);
  }
  let cfg: ModelConfig;
  try {
    cfg = validateModelConfig(rawConfig, configPath);
  } catch (err) {
    throw new ModelPackageError(`${(err as Error).message}; ${reexport}`);
  }

  let info: OnnxInfo;
  let onnx: () => Uint8Array;
  if ("remembered" in onnxChecked) {
    info = onnxChecked.remembered;
    onnx = onnxOnDemand(onnxPath, reexport, onnxChecked.identity);
  } else {
    const { bytes, identity, readAt } = onnxChecked;
    try {
      info = readOnnxInfo(bytes);
    } catch (err) {
      throw new ModelPackageError(`${onnxPath}: not a readable ONNX model: ${(err as Error).message}; ${reexport}`);
    }
    if (identity !== undefined) memo?.remember(onnxPath, identity, readAt, info);
    onnx = () => bytes;
  }
  let embeddedCfg: ModelConfig | null;
  try {
    // Validated as config.json is, so that both read an older config's form the same way (its "curriculum"
    // object as training settings, src/model/config.ts).
    embeddedCfg = embeddedModelConfig(info.metadata, onnxPath);
  } catch (err) {
    throw new ModelPackageError(`${(err as Error).message}; ${reexport}`);
  }
  if (embeddedCfg === null) throw new ModelPackageError(`${onnxPath}: holds no "nast.config" metadata (not written by nast export, or truncated); ${reexport}`);
  // config.json's "decoding" (the package's default decoding, src/model/config.ts) may be set after export.
  const weightsCfg = (c: ModelConfig): ModelConfig => {
    if (!("decoding" in c)) return c;
    const { decoding: _, ...rest } = c;
    return rest;
  };
  if (canonical(weightsCfg(embeddedCfg)) !== canonical(weightsCfg(cfg))) {
    const diff = Object.keys({ ...weightsCfg(embeddedCfg), ...weightsCfg(cfg) }).filter(
      (k) => canonical((embeddedCfg as unknown as Record<string, unknown>)[k]) !== canonical((cfg as unknown as Record<string, unknown>)[k]),
    );
    throw new ModelPackageError(
      `${configPath}: disagrees with the config the weights in model.onnx were exported with (differs in: ${diff.join(", ")}); ` +
        `restore config.json from the export or ${reexport}`,
    );
  }
  const logProbs = info.outputs.find((o) => o.name === "tgt_log_probs");
  const graphVocab = logProbs?.dims[2];
  if (typeof graphVocab === "number" && graphVocab !== cfg.vocabSize) {
    throw new ModelPackageError(`${onnxPath}: the graph outputs ${graphVocab} classes but config.json says vocabSize ${cfg.vocabSize}; ${reexport}`);
  }

  let sp: SentencePiece;
  try {
    sp = SentencePiece.fromBytes(spmBytes, spmPath);
  } catch (err) {
    throw new ModelPackageError(`${(err as Error).message}; ${reexport}`);
  }
  if (sp.vocabSize !== cfg.vocabSize) {
    throw new ModelPackageError(
      `${spmPath}: has ${sp.vocabSize} pieces but the model has ${cfg.vocabSize} outputs; the SentencePiece model is not the one the model was trained with (${reexport})`,
    );
  }
  const frameSeconds = Number(info.metadata["nast.frame_seconds"] ?? 0.01 * 2 ** cfg.subsampler.layers);
  const base = {
    dir,
    cfg,
    sp,
    get onnx() {
      return onnx();
    },
    frameSeconds,
    metadata: info.metadata,
  };
  if (!isArConfig(cfg)) return onnxChecked.identity !== undefined ? Object.assign(base, { onnxFile: { path: onnxPath, identity: onnxChecked.identity } }) : base;
  const decoderPath = join(dir, "decoder.onnx");
  const decoderOnnx = readPackageFile(decoderPath, PACKAGE_FILE_LIMITS["decoder.onnx"], reexport);
  let decoderCfg: ModelConfig | null;
  try {
    decoderCfg = embeddedModelConfig(readOnnxInfo(decoderOnnx).metadata, decoderPath);
  } catch (err) {
    throw new ModelPackageError(`${decoderPath}: not a readable ONNX model of nast export: ${(err as Error).message}; ${reexport}`);
  }
  if (decoderCfg === null || canonical(decoderCfg) !== canonical(cfg)) {
    throw new ModelPackageError(`${decoderPath}: was not exported with model.onnx (its "nast.config" differs); ${reexport}`);
  }
  return Object.assign(base, { decoderOnnx });
}
