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
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync, statSync, type BigIntStats } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../util/package-root.ts";
import { embeddedModelConfig, isArConfig, validateModelConfig, type ModelConfig } from "../model/config.ts";
import { SentencePiece } from "../text/sentencepiece.ts";
import { readOnnxInfo } from "./onnx-info.ts";

export class ModelPackageError extends Error {
  override name = "ModelPackageError";
}

export interface ModelPackage {
  dir: string;
  cfg: ModelConfig;
  sp: SentencePiece;
  /** The bytes of model.onnx (onnxruntime loads the session from them): the whole model, or the AR encoder. */
  onnx: Uint8Array;
  /** The bytes of decoder.onnx: the decoder step of an autoregressive model. */
  decoderOnnx?: Uint8Array;
  /** Seconds per output frame of the CTC heads. */
  frameSeconds: number;
  metadata: Record<string, string>;
  /**
   * model.onnx as the file system knows it while its bytes were read (absent when it changed during the read):
   * src/infer/session-cache.ts hashes the bytes again only when the file is not the one it hashed before.
   */
  onnxFile?: { path: string; identity: FileIdentity };
}

/** What tells one version of a file from another without reading it: a change through the file system changes ctime. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export function fileIdentity(st: BigIntStats): FileIdentity {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
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

/** readPackageFile, with the file's identity when it did not change while it was read. */
function readPackageFileWithIdentity(path: string, maxBytes: number, hint = "re-export it with `nast export CKPT -o MODEL_DIR`"): { bytes: Buffer; identity?: FileIdentity } {
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

export function loadModelPackage(dirArg: string | undefined): ModelPackage {
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
  const { bytes: onnx, identity: onnxIdentity } = readPackageFileWithIdentity(onnxPath, PACKAGE_FILE_LIMITS["model.onnx"], reexport);
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

  let info;
  try {
    info = readOnnxInfo(onnx);
  } catch (err) {
    throw new ModelPackageError(`${onnxPath}: not a readable ONNX model: ${(err as Error).message}; ${reexport}`);
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
  const onnxFile = onnxIdentity !== undefined ? { onnxFile: { path: onnxPath, identity: onnxIdentity } } : {};
  if (!isArConfig(cfg)) return { dir, cfg, sp, onnx, frameSeconds, metadata: info.metadata, ...onnxFile };
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
  return { dir, cfg, sp, onnx, decoderOnnx, frameSeconds, metadata: info.metadata };
}
