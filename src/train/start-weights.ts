// Weights a run starts from when they are not random: `--init` (fine-tuning a trained model on new data, or
// continuing a run whose optimizer state is gone) and `--retrofit-lisa` (a model without LiSA whose LiSA
// modules are new). The source is a checkpoint or `nast average` output (.safetensors, or a directory
// src/formats/checkpoint-path.ts resolves), or a model package such as models/default (its model.onnx holds
// the weights, src/export/onnx-weights.ts, and its config in the "nast.config" metadata).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { readOnnxWeights } from "../export/onnx-weights.ts";
import { embeddedModelConfig, type ModelConfig } from "../model/config.ts";
import { initParams } from "../eager/init.ts";
import { checkParams, type ParamSpec } from "../model/params.ts";
import { loadSafetensors, type Tensor } from "../torch/index.ts";
import { fromHost } from "./host-tensors.ts";
import { resolveSafetensorsPath } from "../formats/checkpoint-path.ts";
import { InputError } from "../util/errors.ts";

export interface StartWeights {
  /** The file the weights came from. */
  path: string;
  tensors: Map<string, Tensor>;
  /** The model's own config ("nast.config" metadata), when the file carries it. */
  cfg: ModelConfig | null;
  /** A model package's SentencePiece model: the data must be prepared with it. */
  spm: string | null;
}

function packageOnnx(source: string): string | null {
  if (source.endsWith(".onnx")) return source;
  const inside = join(source, "model.onnx");
  return existsSync(source) && statSync(source).isDirectory() && existsSync(inside) ? inside : null;
}

export function readStartWeights(source: string, device: string): StartWeights {
  const onnx = packageOnnx(source);
  let path: string;
  let tensors: Map<string, Tensor>;
  let metadata: Record<string, string>;
  if (onnx) {
    path = onnx;
    const w = readOnnxWeights(onnx);
    metadata = w.metadata;
    tensors = new Map();
    // Weights are float32 (float16 ones come back widened), batch-norm counters int64; graph constants of
    // other types are not weights (those that are float32/int64 are dropped by completeWeights).
    for (const [name, t] of w.tensors) {
      const dtype = t.dtype === "float32" ? "F32" : t.dtype === "int64" ? "I64" : null;
      if (dtype) tensors.set(name, fromHost({ dtype, shape: t.shape, bytes: t.data }, device, `${onnx}: ${name}`));
    }
  } else {
    try {
      path = resolveSafetensorsPath(source);
    } catch (err) {
      throw new InputError(source, `${(err as Error).message.replace(`${source}: `, "")}; or give a model package directory (model.onnx)`);
    }
    ({ tensors, metadata } = loadSafetensors(path, device));
  }
  let cfg: ModelConfig | null;
  try {
    cfg = embeddedModelConfig(metadata, path);
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  const spm = onnx && existsSync(join(onnx, "..", "spm.model")) ? join(onnx, "..", "spm.model") : null;
  return { path, tensors, cfg, spm };
}

/**
 * The parameters of `specs` from `start`: every trained weight must be there, except the names in `fresh`
 * (initialised as a new model would be); buffers (batch-norm statistics) missing from the file start fresh
 * too. Unneeded tensors are dropped. A file that lacks a weight (an optimizer state, another model size) is
 * refused rather than silently completed with random values.
 */
export function completeWeights(
  cfg: ModelConfig,
  specs: ParamSpec[],
  start: StartWeights,
  fresh: ReadonlySet<string>,
  init: { seed: number; device: string; teacher?: boolean },
): Map<string, Tensor> {
  const wanted = new Set(specs.map((s) => s.name));
  const tensors = start.tensors;
  for (const [name, t] of tensors) {
    if (!wanted.has(name)) {
      t.dispose();
      tensors.delete(name);
    }
  }
  const missing = specs.filter((s) => !s.buffer && !fresh.has(s.name) && !tensors.has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    for (const t of tensors.values()) t.dispose();
    throw new InputError(
      start.path,
      `lacks ${missing.length} weights of the model (e.g. ${missing.slice(0, 3).join(", ")}): give a model checkpoint ` +
        `(ckpt-<step>.safetensors, not its .train.safetensors optimizer state), a nast average output or a model package, of the same config`,
    );
  }
  const created = initParams(cfg, { seed: init.seed, device: init.device, teacher: init.teacher ?? false, skip: new Set(tensors.keys()) });
  const params = new Map([...tensors, ...created]);
  checkParams(specs, params, start.path);
  return params;
}

/** Refuses data prepared with another SentencePiece model than the package's (same size, other pieces). */
export function checkSameSpm(start: StartWeights, dataSpm: string): void {
  if (start.spm === null) return;
  if (!readFileSync(start.spm).equals(readFileSync(dataSpm))) {
    throw new InputError(
      dataSpm,
      `is not the SentencePiece model of ${start.path} (${start.spm}): prepare the data with it, ` + `\`nast prep ... --spm ${start.spm}\``,
    );
  }
}
