// Training settings: defaults (the reference recipe, docs/model.md §5.4) ← the config's "train" object ←
// command-line flags. SETTINGS is their one table: the checks of every source, the flags and help text of
// `nast train` (src/cli/train.ts) and the error labels are all read from it.
import { ConfigError, isArConfig, type ModelConfig } from "../model/config.ts";
import { UsageError } from "../util/errors.ts";
import type { RatioDecay } from "./schedule.ts";

export interface TrainSettings {
  lr: number;
  warmup: number;
  initLr: number;
  maxFrames: number;
  accum: number;
  adamBetas: [number, number];
  adamEps: number;
  weightDecay: number;
  clipNorm: number;
  maxSteps: number | null;
  maxEpochs: number | null;
  validEvery: number;
  validMax: number | null;
  validSplit: string;
  alsoValidate: string[];
  logEvery: number;
  keepLast: number;
  keepBest: number;
  seed: number;
  specAugment: boolean;
  maxBadSteps: number;
  maxUttFrames: number;
  trainTalks: string | null;
  curriculum: boolean;
  curriculumRatio: number;
  curriculumOnlyMistakes: boolean;
  curriculumSmoothing: number;
  curriculumDecay: RatioDecay | null;
}

export type SettingKey = keyof TrainSettings;

/**
 * How a value is written and checked: "int"/"num" at least `min` (and at most `max`); "intOrNull" null for no
 * limit; "betas" two numbers in [0, 1); "strList" comma-separated on the command line; "decay" null or
 * {startStep, endStep, endRatio}, on the command line START:END:RATIO or none; "pathOrNull" null or a file's path.
 */
export type Kind = "num" | "int" | "intOrNull" | "bool" | "betas" | "str" | "strList" | "decay" | "pathOrNull";

export interface Setting<K extends SettingKey> {
  /** The flag of `nast train`, without "--"; a "bool" setting has --FLAG and --no-FLAG. */
  flag: string;
  kind: Kind;
  default: TrainSettings[K];
  min?: number;
  max?: number;
  help: string;
}

export const SETTINGS: { readonly [K in SettingKey]: Setting<K> } = {
  maxSteps: { flag: "max-steps", kind: "intOrNull", default: null, min: 1, help: "stop after N updates" },
  maxEpochs: { flag: "max-epochs", kind: "intOrNull", default: 100, min: 1, help: "stop after N epochs (the reference's max-epoch)" },
  // 2e-3 diverged on small in the first GPU runs (docs/model.md §5.4).
  lr: { flag: "lr", kind: "num", default: 1e-3, min: 0, help: "peak learning rate of the inverse-sqrt schedule" },
  warmup: { flag: "warmup", kind: "int", default: 10000, min: 0, help: "linear warm-up updates from --init-lr to --lr" },
  initLr: { flag: "init-lr", kind: "num", default: 1e-7, min: 0, help: "learning rate of the first update" },
  // Padded frames, as fairseq's --max-tokens; the reference runs 8 GPUs × 40k = 320k frames per update.
  maxFrames: { flag: "max-frames", kind: "int", default: 40000, min: 1, help: "frames per micro-batch, padding included" },
  accum: { flag: "accum", kind: "int", default: 1, min: 1, help: "micro-batches per update (gradient accumulation)" },
  adamBetas: { flag: "adam-betas", kind: "betas", default: [0.9, 0.98], help: "Adam's β1,β2" },
  adamEps: { flag: "adam-eps", kind: "num", default: 1e-8, min: 0, help: "Adam's ε" },
  weightDecay: { flag: "weight-decay", kind: "num", default: 0, min: 0, help: "Adam's weight decay" },
  clipNorm: { flag: "clip-norm", kind: "num", default: 10, min: 0, help: "clip the gradient to this norm" },
  seed: { flag: "seed", kind: "int", default: 1, min: 0, help: "seed of every random stream" },
  validEvery: { flag: "valid-every", kind: "int", default: 1000, min: 1, help: "validate and checkpoint every N updates, and at the end" },
  validMax: { flag: "valid-max", kind: "intOrNull", default: null, min: 1, help: "validate on the first N utterances only" },
  validSplit: { flag: "valid-split", kind: "str", default: "dev", help: 'the split of DATA_DIR to validate on ("train" checks how well a small set is learnt)' },
  alsoValidate: {
    flag: "also-validate",
    kind: "strList",
    default: [],
    help: 'more splits of DATA_DIR validated each time and logged as "valid_extra" (e.g. dev-real,tst-AST): curves only, never used to rank checkpoints',
  },
  logEvery: { flag: "log-every", kind: "int", default: 1, min: 1, help: "a JSON log line every N updates (the progress line shows every update)" },
  keepLast: { flag: "keep-last", kind: "int", default: 5, min: 1, help: "checkpoints kept: the last N, ..." },
  keepBest: { flag: "keep-best", kind: "int", default: 10, min: 0, help: "... and the best N by dev BLEU" },
  specAugment: { flag: "specaugment", kind: "bool", default: true, help: "SpecAugment of the training features" },
  maxBadSteps: { flag: "max-bad-steps", kind: "int", default: 20, min: 1, help: "stop after N consecutive non-finite (skipped) updates" },
  maxUttFrames: { flag: "max-utt-frames", kind: "int", default: 3000, min: 1, help: "drop training utterances longer than N frames" },
  // An ablation of the data's sources (or any subset) without a second `nast prep`: one prepared train split
  // serves every run. The list is read again on --resume, and its digest must then be the one the run began with.
  trainTalks: {
    flag: "train-talks",
    kind: "pathOrNull",
    default: null,
    help: "train only on the talks this file lists (one talk id per line as DATA_DIR/train names them, the yaml's wav without .wav, e.g. ted_12; # starts a comment)",
  },
  curriculum: { flag: "curriculum", kind: "bool", default: true, help: "GLAT-style ground-truth mixing into the target PAE (docs/model.md §5.2)" },
  curriculumRatio: { flag: "curriculum-ratio", kind: "num", default: 0.8, min: 0, max: 1, help: "the share of the mistaken frames it replaces" },
  curriculumOnlyMistakes: { flag: "curriculum-only-mistakes", kind: "bool", default: true, help: "replace only frames the model got wrong" },
  curriculumSmoothing: { flag: "curriculum-smoothing", kind: "num", default: 0.1, min: 0, max: 1, help: "label smoothing of the replaced frames' one-hot" },
  curriculumDecay: {
    flag: "curriculum-decay",
    kind: "decay",
    default: null,
    help: "START:END:RATIO: the ratio falls linearly to RATIO from update START to END (the reference's ratio-decay)",
  },
};

export const DEFAULT_SETTINGS = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.default])) as unknown as TrainSettings;

/**
 * The settings a model's config records (the "train" object of its checkpoints and package, src/export): how
 * the model was trained, so that `nast train --init` from it trains the same way unless flags say otherwise.
 */
const RECORDED_SETTINGS = ["curriculum", "curriculumRatio", "curriculumOnlyMistakes", "curriculumSmoothing", "curriculumDecay"] as const;

/** What a value of `s` must be, for error messages: as written in a config file, or as a flag (`cli`). */
function expected(s: Setting<SettingKey>, cli: boolean): string {
  const range = s.max !== undefined ? ` in [${s.min ?? 0}, ${s.max}]` : "";
  switch (s.kind) {
    case "num":
      return `a number >= ${s.min ?? 0}${range}`;
    case "int":
      return `an integer >= ${s.min ?? 0}`;
    case "intOrNull":
      return `an integer >= ${s.min ?? 0}${cli ? "" : " or null"}`;
    case "bool":
      return "true or false";
    case "str":
      return "a non-empty string";
    case "strList":
      return cli ? "comma-separated names" : "a list of non-empty strings";
    case "betas":
      return "two numbers in [0, 1)";
    case "pathOrNull":
      return cli ? "a file's path" : "a file's path or null";
    case "decay":
      return cli ? "START:END:RATIO with START < END and RATIO in [0, 1], or none" : "null or {startStep, endStep, endRatio} with 0 <= startStep < endStep and endRatio in [0, 1]";
  }
}

function isValid(s: Setting<SettingKey>, v: unknown): boolean {
  const inRange = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x >= (s.min ?? 0) && (s.max === undefined || x <= s.max);
  switch (s.kind) {
    case "num":
      return inRange(v);
    case "int":
      return Number.isInteger(v) && inRange(v);
    case "intOrNull":
      return v === null || (Number.isInteger(v) && inRange(v));
    case "bool":
      return typeof v === "boolean";
    case "str":
      return typeof v === "string" && v !== "";
    case "pathOrNull":
      return v === null || (typeof v === "string" && v !== "");
    case "strList":
      return Array.isArray(v) && v.every((x) => typeof x === "string" && x !== "");
    case "betas":
      return Array.isArray(v) && v.length === 2 && v.every((b) => typeof b === "number" && b >= 0 && b < 1);
    case "decay": {
      if (v === null) return true;
      if (typeof v !== "object" || Array.isArray(v)) return false;
      const d = v as Record<string, unknown>;
      const keys = Object.keys(d).sort().join();
      return keys === "endRatio,endStep,startStep" && Number.isInteger(d.startStep) && (d.startStep as number) >= 0 &&
        Number.isInteger(d.endStep) && (d.endStep as number) > (d.startStep as number) &&
        typeof d.endRatio === "number" && d.endRatio >= 0 && d.endRatio <= 1;
    }
  }
}

function settingOf(key: string): Setting<SettingKey> | undefined {
  return Object.hasOwn(SETTINGS, key) ? SETTINGS[key as SettingKey] : undefined;
}

/** A flag's text as the value of its setting (a "bool" flag's value is already true or false); checked later. */
export function parseFlagValue(key: SettingKey, text: string): unknown {
  const kind = SETTINGS[key].kind;
  if (kind === "num" || kind === "int" || kind === "intOrNull") return text.trim() === "" ? text : Number(text);
  if (kind === "betas") return text.split(",").map((x) => (x.trim() === "" ? x : Number(x)));
  if (kind === "strList") return text.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (kind === "decay") {
    if (text === "none") return null;
    const m = /^(\d+):(\d+):([\d.eE+-]+)$/.exec(text);
    return m ? { startStep: Number(m[1]), endStep: Number(m[2]), endRatio: Number(m[3]) } : text;
  }
  return text;
}

/** The value of the flag of setting `key`, checked: a bad one is a UsageError naming the flag and `given`. */
export function checkFlag(key: SettingKey, value: unknown, given: unknown = value): unknown {
  const s = SETTINGS[key];
  if (!isValid(s, value)) throw new UsageError(`--${s.flag} must be ${expected(s, true)}, got ${JSON.stringify(given)}`);
  return value;
}

/**
 * Merges the config's "train" object, then the flags (already parsed by parseFlagValue) over the defaults.
 * A bad key or value of the config is a ConfigError naming `configSource` and the key; a bad flag value a
 * UsageError naming the flag.
 */
export function resolveSettings(cfg: ModelConfig, flags: Partial<Record<SettingKey, unknown>>, configSource: string): TrainSettings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(cfg.train ?? {})) {
    const s = settingOf(k);
    if (s === undefined) throw new ConfigError(`${configSource}: train.${k}: unknown training setting (known: ${Object.keys(SETTINGS).join(", ")})`);
    if (!isValid(s, v)) throw new ConfigError(`${configSource}: train.${k}: must be ${expected(s, false)}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) out[k] = checkFlag(k as SettingKey, v);
  const settings = out as unknown as TrainSettings;
  if (isArConfig(cfg)) {
    // The curriculum mixes the ground truth into CTC-NAST's target PAE; the autoregressive decoder has none
    // (teacher forcing already feeds it the ground truth), so it is off unless asked for, and then an error.
    const msg = 'the curriculum mixes into the target PAE of CTC-NAST: an autoregressive model ("arch": "ar") has none';
    if (flags.curriculum === true) throw new UsageError(`--curriculum: ${msg}`);
    if (cfg.train?.curriculum === true) throw new ConfigError(`${configSource}: train.curriculum: ${msg} (leave it out)`);
    settings.curriculum = false;
  } else if (settings.curriculum && !(cfg.textual.pae && cfg.textual.interCtcLayers.length > 0)) {
    const msg = "the curriculum mixes into the target PAE: it needs textual.pae and textual.interCtcLayers";
    if (flags.curriculum === true) throw new UsageError(`--curriculum: ${msg}`);
    throw new ConfigError(`${configSource}: train.curriculum: ${msg} (set it false, or pass --no-curriculum)`);
  }
  return settings;
}

/** `cfg` with the RECORDED_SETTINGS of `settings` in its "train" object: the config a checkpoint carries. */
export function trainedConfig<C extends ModelConfig>(cfg: C, settings: TrainSettings): C {
  return { ...cfg, train: { ...cfg.train, ...Object.fromEntries(RECORDED_SETTINGS.map((k) => [k, settings[k]])) } };
}
