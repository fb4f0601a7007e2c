// Training settings: defaults (the reference recipe, docs/model.md §5.4) ← the config's "train" object ←
// command-line flags. Every key is checked; an unknown key or a bad value names where it came from.
import type { NastConfig } from "../model/config.ts";
import { UsageError } from "../util/errors.ts";

export interface TrainSettings {
  /** Peak learning rate of the inverse-sqrt schedule (reference 1e-3; 2e-3 diverged on small in the first GPU runs). */
  lr: number;
  /** Linear warm-up updates from initLr to lr (reference 10000). */
  warmup: number;
  initLr: number;
  /** Frame budget of one micro-batch (padded frames, as fairseq --max-tokens; reference 40000 per GPU). */
  maxFrames: number;
  /** Micro-batches per update (gradient accumulation; reference: 8 GPUs × 40k = 320k frames per update). */
  accum: number;
  adamBetas: [number, number];
  adamEps: number;
  weightDecay: number;
  clipNorm: number;
  /** Stop after this many updates / epochs (null: no limit from this one; reference max-epoch 100). */
  maxSteps: number | null;
  maxEpochs: number | null;
  /** Validate (dev BLEU) and write a checkpoint every N updates, and at the end. */
  validEvery: number;
  /** Use at most this many utterances of the validation split (null: all). */
  validMax: number | null;
  /** The split of DATA_DIR validated on (dev; "train" checks how well a small set is learnt). */
  validSplit: string;
  /**
   * More splits of DATA_DIR validated at every validation and logged ("valid_extra"), e.g. a held-out
   * real-speech split beside a synthetic dev: learning curves only; checkpoints are ranked by validSplit.
   */
  alsoValidate: string[];
  /** A JSON log line every N updates (1 for exact curves; the progress display updates every update). */
  logEvery: number;
  keepLast: number;
  keepBest: number;
  seed: number;
  specAugment: boolean;
  /** Ground-truth mixing (the config's curriculum) on; false turns it off for this run. */
  curriculum: boolean;
  /** Consecutive skipped (non-finite) updates after which training stops. */
  maxBadSteps: number;
  /** Drop train utterances longer than this (frames); they would not fit a batch anyway above maxFrames. */
  maxUttFrames: number;
}

export const DEFAULT_SETTINGS: TrainSettings = {
  lr: 1e-3,
  warmup: 10000,
  initLr: 1e-7,
  maxFrames: 40000,
  accum: 1,
  adamBetas: [0.9, 0.98],
  adamEps: 1e-8,
  weightDecay: 0,
  clipNorm: 10,
  maxSteps: null,
  maxEpochs: 100,
  validEvery: 1000,
  validMax: null,
  validSplit: "dev",
  alsoValidate: [],
  logEvery: 1,
  keepLast: 5,
  keepBest: 10,
  seed: 1,
  specAugment: true,
  curriculum: true,
  maxBadSteps: 20,
  maxUttFrames: 3000,
};

type Kind = "num" | "int" | "intOrNull" | "bool" | "betas" | "str" | "strList";
const KINDS: Record<keyof TrainSettings, Kind> = {
  lr: "num",
  warmup: "int",
  initLr: "num",
  maxFrames: "int",
  accum: "int",
  adamBetas: "betas",
  adamEps: "num",
  weightDecay: "num",
  clipNorm: "num",
  maxSteps: "intOrNull",
  maxEpochs: "intOrNull",
  validEvery: "int",
  validMax: "intOrNull",
  validSplit: "str",
  alsoValidate: "strList",
  logEvery: "int",
  keepLast: "int",
  keepBest: "int",
  seed: "int",
  specAugment: "bool",
  curriculum: "bool",
  maxBadSteps: "int",
  maxUttFrames: "int",
};

function check(key: string, value: unknown, where: string): unknown {
  const kind = KINDS[key as keyof TrainSettings];
  const bad = (what: string): never => {
    throw new UsageError(`${where}: ${key} must be ${what}, got ${JSON.stringify(value)}`);
  };
  if (kind === undefined) throw new UsageError(`${where}: unknown training setting "${key}" (known: ${Object.keys(KINDS).join(", ")})`);
  switch (kind) {
    case "num":
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) bad("a non-negative number");
      return value;
    case "int":
      if (!Number.isInteger(value) || (value as number) < (key === "warmup" || key === "keepBest" || key === "seed" ? 0 : 1)) bad("a positive integer");
      return value;
    case "intOrNull":
      if (value !== null && (!Number.isInteger(value) || (value as number) < 1)) bad("a positive integer or null");
      return value;
    case "bool":
      if (typeof value !== "boolean") bad("true or false");
      return value;
    case "str":
      if (typeof value !== "string" || value === "") bad("a non-empty string");
      return value;
    case "strList":
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) bad("a list of non-empty strings");
      return value;
    case "betas":
      if (!Array.isArray(value) || value.length !== 2 || value.some((b) => typeof b !== "number" || b < 0 || b >= 1)) bad("two numbers in [0, 1)");
      return value;
  }
}

/** Merges overrides (config "train" object, then flags) over the defaults, checking each key. */
export function resolveSettings(cfg: NastConfig, flags: Partial<Record<keyof TrainSettings, unknown>>, configSource: string): TrainSettings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(cfg.train ?? {})) out[k] = check(k, v, `${configSource} (train)`);
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) out[k] = check(k, v, `--${k}`);
  return out as unknown as TrainSettings;
}
