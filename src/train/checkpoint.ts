// Checkpoints of an experiment (EXP_DIR/checkpoints/):
//   ckpt-<step>.safetensors        the model state dict; metadata "nast.config" (the resolved config JSON, the
//                                  contract `nast export` reads), "nast.step", "nast.epoch", "nast.dev_bleu"
//   ckpt-<step>.train.safetensors  the optimizer moments; metadata "nast.trainer" (TrainerState JSON)
//   latest.json                    {step, model, train}: written last, so a kill at any moment leaves the
//                                  previous checkpoint as the one `--resume` continues from
// Every file is written to a temporary name and renamed (src/formats/atomic-file.ts). Retention keeps the
// last N and the best N by dev BLEU (ESPnet keep_nbest_models, fairseq keep-best-checkpoints; docs/design.md §8).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { CONFIG_KEY, parseConfigMetadata } from "../formats/nast-metadata.ts";
import { InputError } from "../util/errors.ts";
import {
  fromFloat64,
  type HostTensor,
  readSafetensors,
  readSafetensorsMetadata,
  toFloat64,
  writeSafetensors,
} from "../formats/safetensors.ts";

/** Everything besides tensors that `--resume` needs to continue exactly where a run stopped. */
export interface TrainerState {
  /** Optimizer updates done. */
  step: number;
  /** The epoch in progress (0-based) and how many of its batches (micro-batches) were consumed. */
  epoch: number;
  batchInEpoch: number;
  /** Skipped non-finite updates so far. */
  badSteps: number;
  /** The seed every random stream derives from (with the step or epoch). */
  seed: number;
  /** Options the run was started with (lr, warm-up, batch size...), to warn when a resume changes them. */
  options: Record<string, unknown>;
  /** Wall-clock seconds spent training before this checkpoint. */
  elapsed: number;
}

export interface CheckpointInfo {
  path: string;
  step: number;
  devBleu: number | null;
}

export const CKPT_DIR = "checkpoints";

export function checkpointDir(expDir: string): string {
  return join(expDir, CKPT_DIR);
}

function modelName(step: number): string {
  return `ckpt-${String(step).padStart(8, "0")}.safetensors`;
}

function trainName(step: number): string {
  return `ckpt-${String(step).padStart(8, "0")}.train.safetensors`;
}

export interface SaveRequest {
  model: Map<string, HostTensor>;
  optimizer: Map<string, HostTensor>;
  config: unknown;
  state: TrainerState;
  devBleu: number | null;
}

/** Writes one checkpoint (model, optimizer, state), then points latest.json at it. Returns the model path. */
export function saveCheckpoint(expDir: string, req: SaveRequest): string {
  const dir = checkpointDir(expDir);
  mkdirSync(dir, { recursive: true });
  const step = req.state.step;
  writeSafetensors(join(dir, trainName(step)), req.optimizer, { "nast.trainer": JSON.stringify(req.state) });
  const meta: Record<string, string> = {
    [CONFIG_KEY]: JSON.stringify(req.config),
    "nast.step": String(step),
    "nast.epoch": String(req.state.epoch),
  };
  if (req.devBleu !== null) meta["nast.dev_bleu"] = String(req.devBleu);
  const modelPath = join(dir, modelName(step));
  writeSafetensors(modelPath, req.model, meta);
  writeFileAtomic(join(dir, "latest.json"), JSON.stringify({ step, model: modelName(step), train: trainName(step) }) + "\n");
  return modelPath;
}

/** The model checkpoints of an experiment, oldest first. */
export function listCheckpoints(expDir: string): CheckpointInfo[] {
  const dir = checkpointDir(expDir);
  if (!existsSync(dir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^ckpt-\d+\.safetensors$/.test(name)) continue;
    const path = join(dir, name);
    const meta = readSafetensorsMetadata(path);
    const bleu = meta["nast.dev_bleu"];
    out.push({ path, step: Number(meta["nast.step"]), devBleu: bleu === undefined ? null : Number(bleu) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The best `n` by dev BLEU (ties: the later one), best first. */
export function bestCheckpoints(all: CheckpointInfo[], n: number): CheckpointInfo[] {
  return all
    .filter((c) => c.devBleu !== null)
    .sort((a, b) => (b.devBleu as number) - (a.devBleu as number) || b.step - a.step)
    .slice(0, n);
}

/**
 * Deletes every checkpoint that is neither among the last `keepLast` nor the best `keepBest`; the one
 * latest.json points at is always kept. Returns the deleted model paths.
 */
export function pruneCheckpoints(expDir: string, keepLast: number, keepBest: number): string[] {
  const all = listCheckpoints(expDir);
  const keep = new Set<number>();
  for (const c of all.slice(Math.max(0, all.length - keepLast))) keep.add(c.step);
  for (const c of bestCheckpoints(all, keepBest)) keep.add(c.step);
  const latest = readLatest(expDir);
  if (latest) keep.add(latest.step);
  const deleted: string[] = [];
  for (const c of all) {
    if (keep.has(c.step)) continue;
    rmSync(c.path, { force: true });
    rmSync(join(checkpointDir(expDir), trainName(c.step)), { force: true });
    deleted.push(c.path);
  }
  return deleted;
}

function readLatest(expDir: string): { step: number; model: string; train: string } | null {
  const path = join(checkpointDir(expDir), "latest.json");
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as { step: number; model: string; train: string };
  } catch (err) {
    throw new InputError(path, `corrupt (${(err as Error).message}); delete it to resume from scratch`);
  }
}

export interface LoadedCheckpoint {
  model: Map<string, HostTensor>;
  optimizer: Map<string, HostTensor>;
  config: unknown;
  state: TrainerState;
}

/** The checkpoint `--resume` continues from, or null when the experiment has none. */
export function loadLatestCheckpoint(expDir: string): LoadedCheckpoint | null {
  const latest = readLatest(expDir);
  if (!latest) return null;
  const dir = checkpointDir(expDir);
  const model = readSafetensors(join(dir, latest.model));
  const train = readSafetensors(join(dir, latest.train));
  const stateJson = train.metadata["nast.trainer"];
  const config = parseConfigMetadata(model.metadata, join(dir, latest.model));
  if (!stateJson || config === undefined) {
    throw new InputError(join(dir, latest.model), "checkpoint lacks nast.trainer or nast.config metadata");
  }
  return {
    model: model.tensors,
    optimizer: train.tensors,
    config,
    state: JSON.parse(stateJson) as TrainerState,
  };
}

/**
 * The elementwise mean of model checkpoints (icefall average_checkpoints): floating tensors averaged in
 * float64 and stored in their own dtype; integer tensors (batch-norm counters) take the floor of the mean.
 * All checkpoints must hold the same names, shapes and dtypes. Metadata: the last checkpoint's config,
 * plus "nast.averaged" listing the sources.
 */
export function averageCheckpoints(paths: string[]): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (paths.length === 0) throw new RangeError("averageCheckpoints: no checkpoints given");
  const files = paths.map((p) => ({ path: p, file: readSafetensors(p) }));
  const first = files[0]!;
  const sums = new Map<string, Float64Array>();
  for (const { path, file } of files) {
    if (file.tensors.size !== first.file.tensors.size) {
      throw new InputError(path, `holds ${file.tensors.size} tensors, ${first.path} holds ${first.file.tensors.size}: not the same model`);
    }
    for (const [name, t] of file.tensors) {
      const ref = first.file.tensors.get(name);
      if (!ref || ref.dtype !== t.dtype || ref.shape.join() !== t.shape.join()) {
        throw new InputError(path, `tensor ${name} [${t.shape}] ${t.dtype} does not match ${first.path}`);
      }
      const values = toFloat64(t);
      const sum = sums.get(name);
      if (sum) for (let i = 0; i < values.length; i++) sum[i] = (sum[i] as number) + (values[i] as number);
      else sums.set(name, values);
    }
  }
  const tensors = new Map<string, HostTensor>();
  for (const [name, ref] of first.file.tensors) {
    const sum = sums.get(name) as Float64Array;
    const isFloat = ref.dtype === "F32" || ref.dtype === "F64" || ref.dtype === "F16" || ref.dtype === "BF16";
    for (let i = 0; i < sum.length; i++) {
      sum[i] = isFloat ? (sum[i] as number) / paths.length : Math.floor((sum[i] as number) / paths.length);
    }
    tensors.set(name, fromFloat64(sum, ref.dtype, ref.shape));
  }
  const last = files[files.length - 1]!.file.metadata;
  const metadata: Record<string, string> = { "nast.averaged": JSON.stringify(paths) };
  for (const key of [CONFIG_KEY, "nast.step", "nast.epoch"]) if (last[key] !== undefined) metadata[key] = last[key] as string;
  return { tensors, metadata };
}
