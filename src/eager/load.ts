// A trained model from a checkpoint (safetensors state dict + "nast.config" metadata, the contract of
// src/train/checkpoint.ts) as libtorch tensors ready for EagerOps.
import { resolveSafetensorsPath } from "../formats/checkpoint-path.ts";
import { loadSafetensors, noGrad, type Device, type Tensor } from "../torch/index.ts";
import { embeddedModelConfig, type ModelConfig } from "../model/config.ts";
import { checkParams, paramSpecs } from "../model/params.ts";

export interface LoadedModel {
  path: string;
  cfg: ModelConfig;
  /** float32 parameters and buffers by state-dict name (frozen: no gradients). */
  params: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export function loadModel(checkpoint: string, device: Device = "cpu"): LoadedModel {
  const path = resolveSafetensorsPath(checkpoint);
  const { tensors, metadata } = loadSafetensors(path, device);
  const cfg = embeddedModelConfig(metadata, path);
  if (cfg === null) throw new Error(`${path}: the checkpoint has no "nast.config" metadata (was it written by nast train or nast average?)`);
  // A LiSA retro-fit checkpoint still holds the full layers' Q/K (the KL teacher); accept those too.
  const plain = paramSpecs(cfg);
  const known = new Set(plain.map((s) => s.name));
  const teacher = [...tensors.keys()].some((n) => !known.has(n));
  checkParams(teacher ? paramSpecs(cfg, { teacher: true }) : plain, tensors, path);
  const params = new Map<string, Tensor>();
  noGrad(() => {
    for (const [name, t] of tensors) {
      if (t.dtype === "float32" || t.dtype === "int64") params.set(name, t);
      else {
        params.set(name, t.to("float32"));
        t.dispose();
      }
    }
  });
  return { path, cfg, params, metadata };
}
