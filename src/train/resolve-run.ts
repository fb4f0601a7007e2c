// The first phase of `nast train`: which run this invocation is. A fresh run takes its config from -c or the
// --init weights and its settings from the config's "train" object and the flags; --resume continues the
// experiment's last checkpoint with the config, settings, retro-fit and position it holds (flags still apply).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isArConfig, loadModelConfig, validateModelConfig, withVocabSize, type ModelConfig } from "../model/config.ts";
import type { SentencePiece } from "../text/sentencepiece.ts";
import { InputError, UsageError } from "../util/errors.ts";
import type { JsonLogger } from "../util/log.ts";
import { CKPT_DIR, listCheckpoints, loadLatestCheckpoint, type LoadedCheckpoint, type TrainerState } from "./checkpoint.ts";
import { resolveSettings, type TrainSettings } from "./settings.ts";
import { checkSameSpm, readStartWeights, type StartWeights } from "./start-weights.ts";
import type { RetrofitOptions, TrainOptions } from "./train-options.ts";

export interface ResolvedRun {
  cfg: ModelConfig;
  settings: TrainSettings;
  retrofit: RetrofitOptions | null;
  /** The position to continue from (update 0 for a fresh run). */
  state: TrainerState;
  /** Adam's step count in the checkpoint (0 for a fresh run). */
  adamStep: number;
  /** The checkpoint continued, or null for a fresh run. */
  resumed: LoadedCheckpoint | null;
  /** The --init weights of a fresh run, or null. */
  start: StartWeights | null;
  /**
   * The digest of the --train-talks list the resumed run began with (null: it had none, as every checkpoint
   * of before the setting), undefined for a fresh run: the talks it reads now must match it.
   */
  resumedTalks: string | null | undefined;
}

/** What a checkpoint keeps of the run beside the model (TrainerState.options). */
export interface PersistedOptions {
  settings: TrainSettings;
  retrofit: RetrofitOptions | null;
  adamStep: number;
  /** The digest of the --train-talks list (src/train/talk-list.ts), null without one; absent in older checkpoints. */
  trainTalksSha256?: string | null;
}

/**
 * `--resume` found no checkpoint to continue: starting the run is right when EXP_DIR is new, empty, or holds a
 * run of nast train that stopped before its first checkpoint (its train.log.jsonl). Anything else is most
 * likely a mistyped -o, and a fresh run must not start there unnoticed.
 */
function checkResumeStart(expDir: string): void {
  if (!existsSync(expDir)) return;
  if (!statSync(expDir).isDirectory()) throw new UsageError(`--resume: ${expDir} is not a directory; -o takes the experiment directory`);
  const found = listCheckpoints(expDir);
  if (found.length > 0) {
    throw new UsageError(
      `--resume: ${expDir} holds checkpoints (the last: ${found.at(-1)!.path}) but no ${join(CKPT_DIR, "latest.json")} saying which one to continue from; ` +
        `restore that file, or start from the weights with --init ${found.at(-1)!.path} in a new -o EXP_DIR`,
    );
  }
  const isEmptyDir = (p: string) => {
    try {
      return statSync(p).isDirectory() && readdirSync(p).length === 0;
    } catch {
      return false;
    }
  };
  const entries = readdirSync(expDir).filter((name) => !(name === CKPT_DIR && isEmptyDir(join(expDir, name))));
  if (entries.length === 0 || entries.includes("train.log.jsonl")) return;
  const shown = entries.slice(0, 4).join(", ") + (entries.length > 4 ? ", ..." : "");
  throw new UsageError(
    `--resume: ${expDir} holds no checkpoint (no ${join(CKPT_DIR, "latest.json")}) and is not an experiment directory of nast train (it holds ${shown}); ` +
      `check the -o path, or leave out --resume to start a new run there`,
  );
}

/** Sorted-key JSON, to compare configs. */
function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** A warning when the -c given with a real --resume is not the config the run continues with (null when it is). */
function ignoredConfigWarning(source: string, cfg: ModelConfig, expDir: string): string | null {
  const why = `-c ${source} is ignored: --resume continues ${expDir} with the config its checkpoint holds`;
  let given: ModelConfig;
  try {
    given = withVocabSize(loadModelConfig(source), cfg.vocabSize);
  } catch (err) {
    return `${why} (${source} cannot be read: ${(err as Error).message})`;
  }
  const keys = [...new Set([...Object.keys(given), ...Object.keys(cfg)])].sort();
  const differ = keys.filter((k) => canonicalJson((given as unknown as Record<string, unknown>)[k]) !== canonicalJson((cfg as unknown as Record<string, unknown>)[k]));
  if (differ.length === 0) return null;
  return `${why}, and ${source} differs from it in: ${differ.join(", ")}; to train that config, start a new run in another -o EXP_DIR`;
}

/** The run `opts` asks for, checked against the data's SentencePiece model. */
export function resolveRun(opts: TrainOptions, log: JsonLogger, spm: SentencePiece, spmPath: string): ResolvedRun {
  const resumed = opts.resume ? loadLatestCheckpoint(opts.expDir) : null;
  if (opts.resume && !resumed) checkResumeStart(opts.expDir);
  if (opts.resume && !resumed && !opts.config && !opts.init) {
    throw new UsageError(`--resume: ${opts.expDir} holds no checkpoint yet; start the run with -c CONFIG or --init MODEL (with or without --resume)`);
  }
  if (!opts.resume && listCheckpoints(opts.expDir).length > 0) {
    throw new UsageError(`${opts.expDir} already holds checkpoints: pass --resume to continue that run, or choose another -o EXP_DIR`);
  }
  let cfg: ModelConfig;
  let settings: TrainSettings;
  let retrofit = opts.retrofit;
  let state: TrainerState;
  let adamStep = 0;
  let start: StartWeights | null = null;
  let resumedTalks: string | null | undefined;
  if (resumed) {
    cfg = validateModelConfig(resumed.config, `${opts.expDir} (checkpoint config)`);
    const saved = resumed.state.options as unknown as PersistedOptions;
    // A checkpoint of before the curriculum was a training setting records its curriculum values in the
    // config (read as train settings by validateConfig) and curriculum off in either place; off is off.
    const train = { ...cfg.train, ...saved.settings, curriculum: saved.settings.curriculum && cfg.train?.curriculum !== false };
    settings = resolveSettings({ ...cfg, train }, opts.flags, `${opts.expDir} (resumed settings)`);
    retrofit = saved.retrofit;
    adamStep = saved.adamStep;
    resumedTalks = saved.trainTalksSha256 ?? null;
    state = resumed.state;
    const warning = opts.config ? ignoredConfigWarning(opts.config, cfg, opts.expDir) : null;
    if (warning !== null) {
      process.stderr.write(`nast train: warning: ${warning}\n`);
      log.log("warning", { message: warning });
    }
  } else {
    if (opts.initPart === "encoder") {
      if (!opts.config) throw new UsageError(`--init-encoder ${opts.init}: needs -c CONFIG, the autoregressive model to train (e.g. -c ar-small)`);
      if (!isArConfig(loadModelConfig(opts.config))) {
        throw new UsageError(`--init-encoder: -c ${opts.config} is not an autoregressive model ("arch": "ar"); a CTC-NAST model starts from all of another's weights with --init`);
      }
    }
    start = opts.init ? readStartWeights(opts.init, opts.device) : null;
    const base = opts.config ? loadModelConfig(opts.config) : start?.cfg;
    if (!base) throw new UsageError(`--init ${opts.init}: ${start?.path} carries no model config ("nast.config" metadata); pass -c CONFIG`);
    if (start) {
      checkSameSpm(start, spmPath);
      if (start.cfg && start.cfg.vocabSize !== spm.vocabSize) {
        throw new InputError(spmPath, `has ${spm.vocabSize} pieces but ${start.path} was trained with ${start.cfg.vocabSize}: prepare the data with that model's SentencePiece model`);
      }
    }
    cfg = withVocabSize(base, spm.vocabSize);
    settings = resolveSettings(cfg, opts.flags, opts.config || start!.path);
    state = { step: 0, epoch: 0, batchInEpoch: 0, badSteps: 0, seed: settings.seed, options: {}, elapsed: 0 };
  }
  if (cfg.vocabSize !== spm.vocabSize) {
    throw new InputError(spmPath, `has ${spm.vocabSize} pieces but the model was trained with vocabSize ${cfg.vocabSize}: resume with the same DATA_DIR`);
  }
  if (retrofit !== null && isArConfig(cfg)) {
    throw new UsageError(`--retrofit-lisa: ${opts.config || opts.init}: is an autoregressive model ("arch": "ar"); the LiSA retro-fit trains CTC-NAST models`);
  }
  return { cfg, settings, retrofit, state, adamStep, resumed, start, resumedTalks };
}
