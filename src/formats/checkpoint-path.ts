// Which safetensors file a checkpoint argument names (`nast export CKPT`, src/eager/load.ts): checkpoints are
// files or directories (the contract of src/train/checkpoint.ts: EXP_DIR/checkpoints/latest.json names the
// newest model file; optimizer state lives in *.train.safetensors next to it).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * A checkpoint argument: a .safetensors file; an experiment directory or its checkpoints/ directory (the model
 * that latest.json names, src/train/checkpoint.ts); or a directory holding model.safetensors or exactly one
 * model file (optimizer state files, *.train.safetensors, are not models).
 */
export function resolveSafetensorsPath(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: no such checkpoint (a .safetensors file or a directory holding one)`);
  }
  if (!st.isDirectory()) return path;
  for (const dir of [path, join(path, "checkpoints")]) {
    const latest = join(dir, "latest.json");
    if (!existsSync(latest)) continue;
    let model: unknown;
    try {
      model = (JSON.parse(readFileSync(latest, "utf8")) as { model?: unknown }).model;
    } catch (err) {
      throw new Error(`${latest}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof model !== "string") throw new Error(`${latest}: names no "model" file`);
    return join(dir, model);
  }
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".safetensors") && !f.endsWith(".train.safetensors"))
    .sort();
  if (files.includes("model.safetensors")) return join(path, "model.safetensors");
  if (files.length === 1) return join(path, files[0]!);
  throw new Error(
    files.length === 0
      ? `${path}: the directory holds no .safetensors checkpoint`
      : `${path}: the directory holds several checkpoints (${files.join(", ")}); name one`,
  );
}
