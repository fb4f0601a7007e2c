// The training loop of `nast train` (docs/model.md §5.4): batches by frames with gradient accumulation, Adam with
// the inverse-sqrt warm-up, clip-norm, the curriculum, a guard against non-finite updates, validation by dev
// BLEU, atomic checkpoints with retention, and an exact `--resume`.
//
// Exact resume: every random stream is a function of the seed and the position in the data, never of
// history. The data order of an epoch is batchesByFrames(frames, maxFrames, seed, epoch); the update at
// (epoch, batch) reseeds libtorch's generator (dropout) and a JS Rng (curriculum mask, drop-net) from
// (seed, epoch, batch); each micro-batch's SpecAugment has its own stream from (seed, epoch, its batch), so
// that a worker thread can collate it ahead (src/train/prefetch.ts). A checkpoint stores the model, Adam's
// moments and step count, and the position; a resumed run therefore replays the same updates bit for bit
// on the CPU.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, subsampledLength, validateConfig, withVocabSize, type NastConfig } from "../model/config.ts";
import { initParams } from "../model/init.ts";
import { checkParams, countParams, lisaParamNames, paramSpecs } from "../model/params.ts";
import { openFeatureStore, type FeatureStore } from "../data/feature-store.ts";
import { batchesByFrames } from "../data/batching.ts";
import { SentencePiece } from "../text/sentencepiece.ts";
import {
  Adam,
  clipGradNorm,
  keep,
  noGrad,
  cudaAvailable,
  manualSeed,
  numThreads,
  setNumThreads,
  setTF32,
  synchronize,
  torchVersion,
  type Tensor,
} from "../torch/index.ts";
import { InputError, UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import { ctcMinFrames, type HostBatch } from "./batch.ts";
import type { CollateJob } from "./collate-worker.ts";
import { CollateFeed, specAugmentKey } from "./prefetch.ts";
import { CKPT_DIR, listCheckpoints, loadLatestCheckpoint, pruneCheckpoints, saveCheckpoint, type TrainerState } from "./checkpoint.ts";
import { fromHost, toHostMap } from "./host-tensors.ts";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { curriculumRatio, inverseSqrtLr } from "./schedule.ts";
import { resolveSettings, type TrainSettings } from "./settings.ts";
import { microBatchStep, type StepContext } from "./step.ts";
import { validate, type ValidationResult } from "./validate.ts";
import { checkSameSpm, completeWeights, readStartWeights, type StartWeights } from "./start-weights.ts";

export interface RetrofitOptions {
  /** A trained checkpoint without LiSA whose weights start the LiSA model. */
  from: string;
  /** λ of KL(full ‖ LiSA) (docs/model.md §7.6: default 1). */
  klWeight: number;
  /** Train every parameter (not only LiSA's) from this update on; null: never. */
  unfreezeAfter: number | null;
}

export interface TrainOptions {
  /** Preset name or config JSON (ignored on --resume: the checkpoint's config is used). */
  config: string;
  dataDir: string;
  expDir: string;
  device: string;
  resume: boolean;
  threads: number | null;
  /** CUDA precision: bf16 autocast (default), TF32 matmuls, or plain fp32. CPU always runs fp32. */
  precision: "bf16" | "tf32" | "fp32";
  /** Command-line settings, applied over the config's "train" object (or the resumed run's settings). */
  flags: Partial<Record<keyof TrainSettings, unknown>>;
  retrofit: RetrofitOptions | null;
  /**
   * Start a new run from these weights (a checkpoint, an averaged file or a model package) with a fresh
   * optimizer and schedule; without a config, the model's own is used. Ignored when resuming.
   */
  init?: string | null;
  /** Progress line on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /**
   * Stop cleanly (validate, checkpoint, log "done") after this many seconds of this invocation: a slot on a
   * shared or leased machine that ends at a fixed time. Not a setting of the run: a resumed run may get another.
   */
  maxSeconds?: number | null;
  /** Collate the next micro-batches in a worker thread during each step (default true; same batches either way). */
  prefetch?: boolean;
}

export interface TrainSummary {
  steps: number;
  epochs: number;
  badSteps: number;
  lastLoss: number | null;
  lastBleu: number | null;
  bestBleu: number | null;
  stopReason: string;
  /**
   * The signal (SIGINT, SIGTERM) that stopped the run after its checkpoint, or null when it stopped as planned
   * (--max-steps, --max-epochs, or a --max-seconds slot): `nast train` exits 128 + its number for a signal.
   */
  signal: NodeJS.Signals | null;
}

/** Raised when too many consecutive updates were non-finite; the message says what to do. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
}

interface PersistedOptions {
  settings: TrainSettings;
  retrofit: RetrofitOptions | null;
  adamStep: number;
}

/** Temporary files a killed run left behind (writeFileAtomic's `.tmp-<pid>`); never a complete checkpoint. */
function removeStaleTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
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
function ignoredConfigWarning(source: string, cfg: NastConfig, expDir: string): string | null {
  const why = `-c ${source} is ignored: --resume continues ${expDir} with the config its checkpoint holds`;
  let given: NastConfig;
  try {
    given = withVocabSize(loadConfig(source), cfg.vocabSize);
  } catch (err) {
    return `${why} (${source} cannot be read: ${(err as Error).message})`;
  }
  const keys = [...new Set([...Object.keys(given), ...Object.keys(cfg)])].sort();
  const differ = keys.filter((k) => canonicalJson((given as unknown as Record<string, unknown>)[k]) !== canonicalJson((cfg as unknown as Record<string, unknown>)[k]));
  if (differ.length === 0) return null;
  return `${why}, and ${source} differs from it in: ${differ.join(", ")}; to train that config, start a new run in another -o EXP_DIR`;
}

function seedOf(rng: Rng): number {
  return rng.nextUint32();
}

function openStore(dataDir: string, split: string): FeatureStore {
  return openFeatureStore(join(dataDir, split));
}

function trainableNames(cfg: NastConfig, retrofit: RetrofitOptions | null, step: number): Set<string> {
  if (retrofit && (retrofit.unfreezeAfter === null || step < retrofit.unfreezeAfter)) return new Set(lisaParamNames(cfg));
  return new Set(paramSpecs(cfg).filter((s) => !s.buffer).map((s) => s.name));
}

/** Model parameters for a LiSA retro-fit: the trained model's weights, LiSA modules freshly initialised. */
function retrofitParams(cfg: NastConfig, from: string, seed: number, device: string): Map<string, Tensor> {
  // Only the LiSA modules may be new; the full layers' Q/K stay as the KL teacher.
  const start = readStartWeights(from, device);
  return completeWeights(cfg, paramSpecs(cfg, { teacher: true }), start, new Set(lisaParamNames(cfg)), { seed, device, teacher: true });
}

export async function train(opts: TrainOptions): Promise<TrainSummary> {
  if (opts.threads !== null) setNumThreads(opts.threads);
  const cuda = opts.device.startsWith("cuda");
  if (cuda && !cudaAvailable()) {
    throw new UsageError(`--device ${opts.device}: libtorch reports no CUDA device (build the kernels against a CUDA libtorch, see docs/gpu.md)`);
  }
  if (cuda) setTF32(opts.precision === "tf32");
  const bf16 = cuda && opts.precision === "bf16";
  removeStaleTemporaries(join(opts.expDir, "checkpoints"));
  const log = new JsonLogger(join(opts.expDir, "train.log.jsonl"));

  const spmPath = join(opts.dataDir, "spm.model");
  if (!existsSync(spmPath)) throw new InputError(opts.dataDir, "has no spm.model: prepare the data first (nast prep --mustc ROOT --pair P -o DATA_DIR)");
  const spm = SentencePiece.load(spmPath);

  // Config, settings and starting state: a fresh run, or the experiment's last checkpoint.
  const resumed = opts.resume ? loadLatestCheckpoint(opts.expDir) : null;
  if (opts.resume && !resumed) checkResumeStart(opts.expDir);
  if (opts.resume && !resumed && !opts.config && !opts.init) {
    throw new UsageError(`--resume: ${opts.expDir} holds no checkpoint yet; start the run with -c CONFIG or --init MODEL (with or without --resume)`);
  }
  if (!opts.resume && listCheckpoints(opts.expDir).length > 0) {
    throw new UsageError(`${opts.expDir} already holds checkpoints: pass --resume to continue that run, or choose another -o EXP_DIR`);
  }
  let cfg: NastConfig;
  let settings: TrainSettings;
  let retrofit = opts.retrofit;
  let state: TrainerState;
  let adamStep = 0;
  let start: StartWeights | null = null;
  if (resumed) {
    cfg = validateConfig(resumed.config, `${opts.expDir} (checkpoint config)`);
    const saved = resumed.state.options as unknown as PersistedOptions;
    settings = resolveSettings({ ...cfg, train: { ...saved.settings } }, opts.flags, `${opts.expDir} (resumed settings)`);
    retrofit = saved.retrofit;
    adamStep = saved.adamStep;
    state = resumed.state;
    const warning = opts.config ? ignoredConfigWarning(opts.config, cfg, opts.expDir) : null;
    if (warning !== null) {
      process.stderr.write(`nast train: warning: ${warning}\n`);
      log.log("warning", { message: warning });
    }
  } else {
    start = opts.init ? readStartWeights(opts.init, opts.device) : null;
    const base = opts.config ? loadConfig(opts.config) : start?.cfg;
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

  // Data: utterances too long for a batch are left out (and counted).
  const trainStore = openStore(opts.dataDir, "train");
  const devStore = existsSync(join(opts.dataDir, settings.validSplit)) ? openStore(opts.dataDir, settings.validSplit) : null;
  // Asked for by name, so a missing one is an error, not a silent gap in the curves.
  const extraStores = settings.alsoValidate.map((split) => ({ split, store: openStore(opts.dataDir, split) }));
  const limit = Math.min(settings.maxFrames, settings.maxUttFrames);
  const kept: number[] = [];
  trainStore.frames().forEach((f, i) => {
    if (f > 0 && f <= limit) kept.push(i);
  });
  if (kept.length === 0) throw new InputError(join(opts.dataDir, "train"), `no utterance of at most ${limit} frames: raise --max-frames`);
  const keptFrames = kept.map((i) => trainStore.meta(i).frames);
  const tgtTokens = (i: number) => trainStore.meta(i).tgtIds.length;

  // Parameters and optimizer.
  let params: Map<string, Tensor>;
  if (resumed) {
    params = new Map();
    for (const [name, h] of resumed.model) params.set(name, fromHost(h, opts.device, name));
    checkParams(paramSpecs(cfg, { teacher: retrofit !== null }), params, join(opts.expDir, "checkpoints"));
  } else if (retrofit) {
    params = retrofitParams(cfg, retrofit.from, settings.seed, opts.device);
  } else if (start) {
    params = completeWeights(cfg, paramSpecs(cfg), start, new Set(), { seed: settings.seed, device: opts.device });
  } else {
    params = initParams(cfg, { seed: settings.seed, device: opts.device });
  }
  const trainableSpecs = paramSpecs(cfg).filter((s) => !s.buffer);
  const buffers = paramSpecs(cfg).filter((s) => s.buffer).map((s) => params.get(s.name)!);
  const optimized = new Map(trainableSpecs.map((s) => [s.name, params.get(s.name)!]));
  let trainable = new Set<string>();
  const setTrainable = (step: number) => {
    const next = trainableNames(cfg, retrofit, step);
    if (next.size === trainable.size) return;
    trainable = next;
    for (const [name, p] of optimized) p.setRequiresGrad(trainable.has(name));
  };
  setTrainable(state.step);
  const opt = new Adam(optimized, { lr: settings.lr, betas: settings.adamBetas, eps: settings.adamEps, weightDecay: settings.weightDecay });
  if (resumed) {
    const tensors = new Map<string, Tensor>();
    for (const [name, h] of resumed.optimizer) tensors.set(name, fromHost(h, opts.device, name));
    opt.loadStateDict({ step: adamStep, tensors });
    for (const t of tensors.values()) t.dispose();
  }

  const persisted = (): Record<string, unknown> => ({ settings, retrofit, adamStep: opt.stepCount }) as unknown as Record<string, unknown>;
  // Created only now: a run refused above (bad data, bad --init) leaves no empty experiment behind.
  mkdirSync(opts.expDir, { recursive: true });
  writeFileAtomic(join(opts.expDir, "config.json"), JSON.stringify({ ...cfg, train: settings }, null, 2) + "\n");
  log.log(resumed ? "resume" : "start", {
    config: resumed ? "(checkpoint)" : opts.config,
    data: opts.dataDir,
    device: opts.device,
    precision: cuda ? opts.precision : "fp32",
    threads: numThreads(),
    torch: torchVersion(),
    params: countParams(paramSpecs(cfg)),
    trainable: [...trainable].reduce((n, name) => n + params.get(name)!.numel, 0),
    trainUtterances: kept.length,
    droppedTooLong: trainStore.size - kept.length,
    devUtterances: devStore?.size ?? 0,
    settings,
    retrofit,
    ...(start ? { init: start.path } : {}),
    step: state.step,
    epoch: state.epoch,
    batchInEpoch: state.batchInEpoch,
    model: cfg,
  });

  let lastSaved = resumed ? state.step : -1;
  let lastBleu: number | null = null;
  let bestBleu: number | null = null;
  const validation = (): ValidationResult | null => {
    if (!devStore) return null;
    const v = validate({ cfg, params, device: opts.device, bf16, store: devStore, spm, maxFrames: settings.maxFrames, limit: settings.validMax });
    log.log("valid", { step: state.step, epoch: state.epoch, bleu: v.bleu, srcWer: v.srcWer, utterances: v.utterances, seconds: v.seconds, signature: v.bleuSignature, example: v.hyps[0] ?? "" });
    lastBleu = v.bleu;
    bestBleu = bestBleu === null ? v.bleu : Math.max(bestBleu, v.bleu);
    for (const { split, store } of extraStores) {
      const x = validate({ cfg, params, device: opts.device, bf16, store, spm, maxFrames: settings.maxFrames, limit: settings.validMax });
      log.log("valid_extra", { step: state.step, split, bleu: x.bleu, srcWer: x.srcWer, utterances: x.utterances, seconds: x.seconds, example: x.hyps[0] ?? "" });
    }
    return v;
  };
  const checkpoint = (v: ValidationResult | null) => {
    state.options = persisted();
    const path = saveCheckpoint(opts.expDir, {
      model: toHostMap(params),
      optimizer: toHostMap(opt.stateDict().tensors),
      config: cfg,
      state,
      devBleu: v?.bleu ?? null,
    });
    const deleted = pruneCheckpoints(opts.expDir, settings.keepLast, settings.keepBest);
    log.log("checkpoint", { step: state.step, path, devBleu: v?.bleu ?? null, deleted });
    lastSaved = state.step;
  };

  const perEpoch = Math.ceil(batchesByFrames(keptFrames, settings.maxFrames, state.seed, 0).length / settings.accum);
  const total = settings.maxSteps ?? (settings.maxEpochs ?? 1) * perEpoch;
  const progress = new Progress({ total, label: "train", unit: " upd", ...(opts.progress !== undefined ? { enabled: opts.progress } : {}) });
  progress.tick(state.step);

  const feed = new CollateFeed(trainStore, { worker: opts.prefetch ?? true, onFallback: (reason) => log.log("prefetch_off", { step: state.step, reason }) });
  let consecutiveBad = 0;
  let lastLoss: number | null = null;
  let stopReason = "";
  const startTime = performance.now() - state.elapsed * 1000;
  const invocationStart = performance.now();
  // SIGINT/SIGTERM (Ctrl-C, a scheduler's stop) end the run after the current update, with a checkpoint, so
  // that --resume loses nothing; a second signal stops at once. Seen when the loop yields, after each update.
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== null) process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    signalled = signal;
    log.log("signal", { signal, step: state.step, action: "stopping after this update with a checkpoint; send it again to stop now" });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The run's own end is checked first: a signal or the slot's end that comes with the last update leaves a
  // finished run (exit 0), not a stopped one.
  const done = () => {
    if (settings.maxSteps !== null && state.step >= settings.maxSteps) stopReason = `reached --max-steps ${settings.maxSteps}`;
    else if (settings.maxEpochs !== null && state.epoch >= settings.maxEpochs) stopReason = `reached --max-epochs ${settings.maxEpochs}`;
    else if (signalled !== null) stopReason = `stopped by ${signalled}`;
    else if (opts.maxSeconds != null && (performance.now() - invocationStart) / 1000 >= opts.maxSeconds) stopReason = `reached --max-seconds ${opts.maxSeconds}`;
    return stopReason !== "";
  };

  try {
    while (!done()) {
      const batches = batchesByFrames(keptFrames, settings.maxFrames, state.seed, state.epoch).map((b) => b.map((k) => kept[k]!));
      // SpecAugment has a stream per batch position (not the update's rng), so a worker can collate ahead.
      const jobOf = (j: number): CollateJob => ({ indices: batches[j]!, augmentKey: settings.specAugment ? specAugmentKey(state.seed, state.epoch, j) : null });
      feed.setPlan(batches.slice(state.batchInEpoch).map((_, k) => jobOf(state.batchInEpoch + k)));
      while (state.batchInEpoch < batches.length && !done()) {
        const t0 = performance.now();
        const micro = batches.slice(state.batchInEpoch, state.batchInEpoch + settings.accum);
        const rng = new Rng(`${state.seed}:${state.epoch}:${state.batchInEpoch}`);
        manualSeed(seedOf(rng));
        const step = state.step + 1;
        setTrainable(step - 1);
        opt.lr = inverseSqrtLr(step, settings.lr, settings.warmup, settings.initLr);
        const useCurriculum = settings.curriculum && cfg.curriculum.enabled;
        const ctx: StepContext = {
          cfg,
          params,
          device: opts.device,
          bf16,
          curriculum: useCurriculum
            ? { ratio: curriculumRatio(step, cfg.curriculum.ratio, cfg.curriculum.decay), onlyMistakes: cfg.curriculum.onlyMistakes, smoothing: cfg.curriculum.smoothing }
            : null,
          klWeight: retrofit ? retrofit.klWeight : null,
        };
        const normalizer = Math.max(1, micro.flat().reduce((n, i) => n + tgtTokens(i), 0));
        const sums = { src: 0, srcInter: 0, tgt: 0, tgtInter: 0, kl: 0, replaced: 0, validFrames: 0, mistakes: 0 };
        let frames = 0;
        let infeasible = 0;
        opt.zeroGrad();
        // Batch-norm statistics move during the forward; a skipped update must not keep what NaNs did to them.
        const savedBuffers = noGrad(() => buffers.map((b) => keep(b.clone())));
        for (let m = 0; m < micro.length; m++) {
          const host: HostBatch = await feed.take(jobOf(state.batchInEpoch + m));
          host.lengths.forEach((len, k) => {
            frames += len;
            const outLen = subsampledLength(cfg, len);
            if (outLen < ctcMinFrames(host.tgtTargets[k]!) || outLen < ctcMinFrames(host.srcTargets[k]!)) infeasible++;
          });
          const r = microBatchStep(ctx, host, rng, normalizer);
          for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += r[k];
        }
        const loss = (sums.src + sums.srcInter + sums.tgt + sums.tgtInter + (ctx.klWeight ?? 0) * sums.kl) / normalizer;
        const gradNorm = clipGradNorm(new Map([...trainable].map((n) => [n, params.get(n)!])), settings.clipNorm);
        const position = { epoch: state.epoch, batch: state.batchInEpoch };
        state.batchInEpoch += micro.length;
        const bad = !Number.isFinite(loss) || !Number.isFinite(gradNorm);
        if (bad) noGrad(() => buffers.forEach((b, k) => b.copyInPlace(savedBuffers[k]!)));
        for (const saved of savedBuffers) saved.dispose();
        if (bad) {
          opt.zeroGrad();
          state.badSteps++;
          consecutiveBad++;
          log.log("bad_step", { step, ...position, loss, gradNorm, consecutive: consecutiveBad, total: state.badSteps, utterances: micro.flat().map((i) => trainStore.meta(i).id) });
          if (consecutiveBad >= settings.maxBadSteps) {
            throw new TrainingDivergedError(
              `training stopped at update ${step} (epoch ${position.epoch + 1}, batch ${position.batch}): ${consecutiveBad} consecutive updates had a non-finite loss or gradient ` +
                `(${state.badSteps} skipped in all; see bad_step records in ${join(opts.expDir, "train.log.jsonl")}). ` +
                `Lower the peak learning rate (--lr, now ${settings.lr}) or lengthen --warmup, check the listed utterances' features, ` +
                `then continue from the last checkpoint with --resume.`,
            );
          }
          continue;
        }
        consecutiveBad = 0;
        opt.step();
        if (cuda) synchronize();
        state.step = step;
        state.elapsed = (performance.now() - startTime) / 1000;
        lastLoss = loss;
        const seconds = (performance.now() - t0) / 1000;
        if (step % settings.logEvery === 0 || step === 1) {
          const n = normalizer;
          log.log("train", {
            step,
            epoch: state.epoch,
            loss,
            loss_src: sums.src / n,
            loss_src_inter: sums.srcInter / n,
            loss_tgt: sums.tgt / n,
            loss_tgt_inter: sums.tgtInter / n,
            ...(retrofit ? { loss_kl: sums.kl / n } : {}),
            lr: opt.lr,
            gradNorm,
            frames,
            framesPerSecond: frames / seconds,
            msPerStep: seconds * 1000,
            replaced: sums.validFrames > 0 ? sums.replaced / sums.validFrames : 0,
            mistakes: sums.validFrames > 0 ? sums.mistakes / sums.validFrames : 0,
            infeasible,
            tokens: normalizer,
            rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
          });
        }
        progress.tick(1, `ep ${state.epoch + 1} loss ${loss.toFixed(3)} lr ${opt.lr.toExponential(1)}${lastBleu !== null ? ` bleu ${(lastBleu as number).toFixed(1)}` : ""}`);
        if (step % settings.validEvery === 0) checkpoint(validation());
        // Yield to the event loop after every update (microseconds) so that signals and stdout stay responsive.
        await new Promise((r) => setImmediate(r));
      }
      if (state.batchInEpoch >= batches.length) {
        log.log("epoch", { epoch: state.epoch + 1, step: state.step, batches: batches.length });
        state.epoch++;
        state.batchInEpoch = 0;
      }
    }
    if (lastSaved !== state.step) checkpoint(validation());
  } finally {
    progress.finish();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await feed.close();
    trainStore.close();
    devStore?.close();
  }
  log.log("done", { step: state.step, epoch: state.epoch, badSteps: state.badSteps, loss: lastLoss, bleu: lastBleu, bestBleu, reason: stopReason, seconds: state.elapsed });
  const signal: NodeJS.Signals | null = stopReason.startsWith("stopped by ") ? signalled : null;
  return { steps: state.step, epochs: state.epoch, badSteps: state.badSteps, lastLoss, lastBleu, bestBleu, stopReason, signal };
}
