// The training loop of `nast train` (docs/model.md §5.4): batches by frames with gradient accumulation, Adam with
// the inverse-sqrt warm-up, clip-norm, the curriculum, a guard against non-finite updates, validation by dev
// BLEU, atomic checkpoints with retention, and an exact `--resume`.
//
// Exact resume: every random stream is a function of the seed and the position in the data, never of
// history. The data order of an epoch is batchesByFrames(frames, maxFrames, seed, epoch); each micro-batch at
// (epoch, batch) reseeds libtorch's generator (dropout) and a JS Rng (curriculum mask, drop-net) from
// (seed, epoch, batch) before its step, and its SpecAugment has its own stream from the same position, so
// that a worker thread can collate it ahead (src/train/prefetch.ts). A checkpoint stores the model, Adam's
// moments and step count, and the position; a resumed run therefore replays the same updates bit for bit
// on the CPU.
//
// Data parallel (`--nproc N`, or the variables torchrun sets; src/train/data-parallel.ts): an update is a group
// of accum × world micro-batches, each rank runs its share (positions rank, rank + world, ...), and the gradients
// are summed over the ranks, so that the update is the one a single process makes with --accum accum × world.
// Every micro-batch's random streams come from (seed, epoch, its batch), whichever rank runs it. Rank 0 alone
// validates, writes checkpoints and the log; a stop (signal, --max-seconds) is voted with every update's
// counts, so that all ranks stop after the same update.
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isArConfig, type ModelConfig } from "../model/config.ts";
import { initParams } from "../eager/init.ts";
import { arDecoderParamNames, checkParams, countParams, lisaParamNames, paramSpecs } from "../model/params.ts";
import { openFeatureStore, readStoreMarker, type FeatureStore } from "../data/feature-store.ts";
import { batchesByFrames } from "../data/batching.ts";
import { SentencePiece } from "../text/sentencepiece.ts";
import { cudaAvailable, manualSeed, numThreads, setNumThreads, setTF32, torchVersion, type Tensor } from "../torch/index.ts";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { InputError, UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import type { CollateJob } from "./collate-worker.ts";
import { broadcastFromRank0, explainFailure, joinDataParallel, shareOf, type DataParallel } from "./data-parallel.ts";
import { CollateFeed, specAugmentKey } from "./prefetch.ts";
import { pruneCheckpoints, saveCheckpoint, type TrainerState } from "./checkpoint.ts";
import { fromHost, toHostMap } from "./host-tensors.ts";
import { resolveRun, type PersistedOptions, type ResolvedRun } from "./resolve-run.ts";
import { DEFAULT_SETTINGS, trainedConfig, type TrainSettings } from "./settings.ts";
import { readTalkList, selectTalks } from "./talk-list.ts";
import { completeWeights, readStartWeights } from "./start-weights.ts";
import type { RetrofitOptions, TrainOptions, TrainSummary } from "./train-options.ts";
import { buildTrainee, type Trainee } from "./trainee.ts";
import { update, type UpdateResult } from "./update.ts";
import { validate, type ValidationResult } from "./validate.ts";

/** Raised when too many consecutive updates were non-finite; the message says what to do. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
}

/** Temporary files a killed run left behind (writeFileAtomic's `.tmp-<pid>`); never a complete checkpoint. */
function removeStaleTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
}

/** The training data: utterances too long for a batch are left out (and counted). */
interface TrainData {
  train: FeatureStore;
  dev: FeatureStore | null;
  /** Splits validated beside dev (settings.alsoValidate). */
  extra: { split: string; store: FeatureStore }[];
  /** Indices of the train utterances used, and their frames. */
  kept: number[];
  keptFrames: number[];
  /** --train-talks: the list, its digest and how many train utterances its talks hold. */
  talks: { path: string; sha256: string; utterances: number } | null;
}

/** A training run in progress: what it trains, where it is, and what this invocation has seen. */
interface TrainRun {
  opts: TrainOptions;
  log: JsonLogger;
  spm: SentencePiece;
  cuda: boolean;
  bf16: boolean;
  cfg: ModelConfig;
  settings: TrainSettings;
  retrofit: RetrofitOptions | null;
  state: TrainerState;
  data: TrainData;
  trainee: Trainee;
  feed: CollateFeed;
  progress: Progress;
  /** The update of the last checkpoint written (-1: none yet in a fresh run). */
  lastSaved: number;
  lastLoss: number | null;
  lastBleu: number | null;
  bestBleu: number | null;
  consecutiveBad: number;
  stopReason: string;
  signalled: NodeJS.Signals | null;
  /** performance.now() at which the run (not this invocation) would have started, and this invocation did. */
  startTime: number;
  invocationStart: number;
  /** The process group of a data-parallel run, or null. */
  dp: DataParallel | null;
  /** The stop the ranks agreed on after the last update (data parallel). */
  agreed: { signal: NodeJS.Signals | null; timeUp: boolean };
}

/** Whether this process writes the log, validations and checkpoints: the only one, or rank 0. */
function leads(r: { dp: DataParallel | null }): boolean {
  return r.dp === null || r.dp.rank === 0;
}

function openStore(dataDir: string, split: string): FeatureStore {
  return openFeatureStore(join(dataDir, split));
}

/** The finished feature stores of DATA_DIR, by name (what `nast prep` wrote there). */
function preparedSplits(dataDir: string): string[] {
  return readdirSync(dataDir).filter((name) => readStoreMarker(join(dataDir, name)) !== undefined).sort();
}

/** `resumedTalks`: ResolvedRun's, the talk list a resumed run began with. */
function openData(dataDir: string, settings: TrainSettings, resumedTalks: string | null | undefined): TrainData {
  const train = openStore(dataDir, "train");
  const talks = settings.trainTalks === null ? null : readTalkList(settings.trainTalks);
  if (resumedTalks !== undefined && (talks?.sha256 ?? null) !== resumedTalks) {
    const began = resumedTalks === null ? "every talk of DATA_DIR/train" : `a --train-talks list of digest ${resumedTalks.slice(0, 12)}...`;
    throw new InputError(talks?.path ?? join(dataDir, "train"), `the run being resumed trained on ${began}: resume with that list as it was, or start a new run with --init`);
  }
  const chosen = talks ? selectTalks(talks, Array.from({ length: train.size }, (_, i) => train.meta(i).talk), "DATA_DIR/train") : null;
  // Only the default split may be missing (a corpus without dev trains unvalidated). A split asked for by name
  // must be there: a missing --valid-split once trained a GPU run for 11 minutes with no validation and no
  // checkpoint ranking, because the corpus tool that should have written it was out of date (2026-12-03).
  const devThere = existsSync(join(dataDir, settings.validSplit));
  if (!devThere && settings.validSplit !== DEFAULT_SETTINGS.validSplit) {
    throw new InputError(join(dataDir, settings.validSplit), `is not a split of DATA_DIR (--valid-split): it has ${preparedSplits(dataDir).join(", ") || "none"}; prepare it with \`nast prep\` or validate on one of those`);
  }
  const dev = devThere ? openStore(dataDir, settings.validSplit) : null;
  // Asked for by name, so a missing one is an error, not a silent gap in the curves.
  const extra = settings.alsoValidate.map((split) => ({ split, store: openStore(dataDir, split) }));
  const limit = Math.min(settings.maxFrames, settings.maxUttFrames);
  const kept: number[] = [];
  train.frames().forEach((f, i) => {
    if (f > 0 && f <= limit && (chosen === null || chosen.has(i))) kept.push(i);
  });
  if (kept.length === 0) throw new InputError(join(dataDir, "train"), `no utterance of at most ${limit} frames${talks ? ` in the talks of ${talks.path}` : ""}: raise --max-frames`);
  return { train, dev, extra, kept, keptFrames: kept.map((i) => train.meta(i).frames), talks: talks && { path: talks.path, sha256: talks.sha256, utterances: chosen!.size } };
}

/** Model parameters for a LiSA retro-fit: the trained model's weights, LiSA modules freshly initialised. */
function retrofitParams(cfg: ModelConfig, from: string, seed: number, device: string): Map<string, Tensor> {
  // Only the LiSA modules may be new; the full layers' Q/K stay as the KL teacher.
  const start = readStartWeights(from, device);
  return completeWeights(cfg, paramSpecs(cfg, { teacher: true }), start, new Set(lisaParamNames(cfg)), { seed, device, teacher: true });
}

/** The model and Adam of the run: continued from the checkpoint, or started from weights or from scratch. */
function buildModel(run: ResolvedRun, opts: TrainOptions): Trainee {
  const { cfg, settings, retrofit, resumed, start } = run;
  let params: Map<string, Tensor>;
  if (resumed) {
    params = new Map();
    for (const [name, h] of resumed.model) params.set(name, fromHost(h, opts.device, name));
    checkParams(paramSpecs(cfg, { teacher: retrofit !== null }), params, join(opts.expDir, "checkpoints"));
  } else if (retrofit) {
    params = retrofitParams(cfg, retrofit.from, settings.seed, opts.device);
  } else if (start) {
    // --init-encoder: the decoder is the only part the source (a CTC-NAST model) cannot have.
    const fresh = new Set(opts.initPart === "encoder" && isArConfig(cfg) ? arDecoderParamNames(cfg) : []);
    params = completeWeights(cfg, paramSpecs(cfg), start, fresh, { seed: settings.seed, device: opts.device });
  } else {
    params = initParams(cfg, { seed: settings.seed, device: opts.device });
  }
  const trainee = buildTrainee(cfg, params, settings, retrofit, run.state.step);
  if (resumed) {
    const tensors = new Map<string, Tensor>();
    for (const [name, h] of resumed.optimizer) tensors.set(name, fromHost(h, opts.device, name));
    trainee.opt.loadStateDict({ step: run.adamStep, tensors });
    for (const t of tensors.values()) t.dispose();
  }
  return trainee;
}

/** config.json and the "start" (or "resume") record of the log. */
function recordStart(opts: TrainOptions, log: JsonLogger, run: ResolvedRun, data: TrainData, trainee: Trainee, cuda: boolean, dp: DataParallel | null): void {
  const { cfg, settings, state, resumed } = run;
  // Created only now: a run refused above (bad data, bad --init) leaves no empty experiment behind.
  mkdirSync(opts.expDir, { recursive: true });
  writeFileAtomic(join(opts.expDir, "config.json"), JSON.stringify({ ...cfg, train: settings }, null, 2) + "\n");
  log.log(resumed ? "resume" : "start", {
    config: resumed ? "(checkpoint)" : opts.config,
    data: opts.dataDir,
    device: opts.device,
    precision: cuda ? opts.precision : "fp32",
    threads: numThreads(),
    ...(dp ? { worldSize: dp.worldSize, backend: dp.group.backend, globalAccum: run.settings.accum * dp.worldSize, pids: dp.peers.map((p) => p.pid) } : {}),
    torch: torchVersion(),
    params: countParams(paramSpecs(cfg)),
    trainable: [...trainee.trainable].reduce((n, name) => n + trainee.params.get(name)!.numel, 0),
    trainUtterances: data.kept.length,
    droppedTooLong: (data.talks?.utterances ?? data.train.size) - data.kept.length,
    ...(data.talks ? { trainTalks: data.talks } : {}),
    devUtterances: data.dev?.size ?? 0,
    settings,
    retrofit: run.retrofit,
    ...(run.start ? { init: run.start.path, initPart: opts.initPart ?? "model" } : {}),
    step: state.step,
    epoch: state.epoch,
    batchInEpoch: state.batchInEpoch,
    model: cfg,
  });
}

/** Dev BLEU (and the extra splits' curves) of the current weights; null without a dev split. */
function validation(r: TrainRun): ValidationResult | null {
  const { cfg, settings, state, data } = r;
  if (!data.dev) return null;
  const on = (store: FeatureStore) =>
    validate({ cfg, params: r.trainee.params, device: r.opts.device, bf16: r.bf16, store, spm: r.spm, maxFrames: settings.maxFrames, limit: settings.validMax });
  const v = on(data.dev);
  r.log.log("valid", { step: state.step, epoch: state.epoch, bleu: v.bleu, srcWer: v.srcWer, utterances: v.utterances, seconds: v.seconds, signature: v.bleuSignature, example: v.hyps[0] ?? "" });
  r.lastBleu = v.bleu;
  r.bestBleu = r.bestBleu === null ? v.bleu : Math.max(r.bestBleu, v.bleu);
  for (const { split, store } of data.extra) {
    const x = on(store);
    r.log.log("valid_extra", { step: state.step, split, bleu: x.bleu, srcWer: x.srcWer, utterances: x.utterances, seconds: x.seconds, example: x.hyps[0] ?? "" });
  }
  return v;
}

/** An atomic checkpoint of the model, Adam and the position, then the retention of docs/model.md §5.4. */
function checkpoint(r: TrainRun, v: ValidationResult | null): void {
  const { opts, state, settings, trainee } = r;
  const persisted: PersistedOptions = { settings, retrofit: r.retrofit, adamStep: trainee.opt.stepCount, trainTalksSha256: r.data.talks?.sha256 ?? null };
  state.options = persisted as unknown as Record<string, unknown>;
  const path = saveCheckpoint(opts.expDir, {
    model: toHostMap(trainee.params),
    optimizer: toHostMap(trainee.opt.stateDict().tensors),
    config: trainedConfig(r.cfg, settings),
    state,
    devBleu: v?.bleu ?? null,
  });
  const deleted = pruneCheckpoints(opts.expDir, settings.keepLast, settings.keepBest);
  r.log.log("checkpoint", { step: state.step, path, devBleu: v?.bleu ?? null, deleted });
  r.lastSaved = state.step;
}

/**
 * Whether the run stops before the next update, setting stopReason. The run's own end is checked first: a
 * signal or the slot's end that comes with the last update leaves a finished run (exit 0), not a stopped one.
 */
function shouldStop(r: TrainRun): boolean {
  const { settings, state, opts } = r;
  const signal = r.dp ? r.agreed.signal : r.signalled;
  if (settings.maxSteps !== null && state.step >= settings.maxSteps) r.stopReason = `reached --max-steps ${settings.maxSteps}`;
  else if (settings.maxEpochs !== null && state.epoch >= settings.maxEpochs) r.stopReason = `reached --max-epochs ${settings.maxEpochs}`;
  else if (signal !== null) r.stopReason = `stopped by ${signal}`;
  else if (r.dp ? r.agreed.timeUp : timeUp(r)) r.stopReason = `reached --max-seconds ${opts.maxSeconds}`;
  return r.stopReason !== "";
}

function timeUp(r: TrainRun): boolean {
  return r.opts.maxSeconds != null && (performance.now() - r.invocationStart) / 1000 >= r.opts.maxSeconds;
}

/** This rank's stop votes, summed over the ranks with the update's counts: [SIGINT, SIGTERM, time is up]. */
function stopVotes(r: TrainRun): number[] {
  return [r.signalled === "SIGINT" ? 1 : 0, r.signalled === "SIGTERM" ? 1 : 0, timeUp(r) ? 1 : 0];
}

/**
 * SIGINT/SIGTERM (Ctrl-C, a scheduler's stop) end the run after the current update, with a checkpoint, so that
 * --resume loses nothing; a second signal stops at once. Seen when the loop yields, after each update.
 * Returns the function that removes the handlers.
 */
function stopOnSignals(r: TrainRun): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (r.signalled !== null) process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    r.signalled = signal;
    r.log.log("signal", { signal, step: r.state.step, action: "stopping after this update with a checkpoint; send it again to stop now" });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** A skipped update: logged, and the end of the run when too many came in a row. */
function skipUpdate(r: TrainRun, step: number, position: { epoch: number; batch: number }, micro: number[][], u: UpdateResult): void {
  const { state, settings } = r;
  state.badSteps++;
  r.consecutiveBad++;
  const utterances = micro.flat().map((i) => r.data.train.meta(i).id);
  r.log.log("bad_step", { step, ...position, loss: u.loss, gradNorm: u.gradNorm, consecutive: r.consecutiveBad, total: state.badSteps, utterances });
  if (r.consecutiveBad >= settings.maxBadSteps) {
    throw new TrainingDivergedError(
      `training stopped at update ${step} (epoch ${position.epoch + 1}, batch ${position.batch}): ${r.consecutiveBad} consecutive updates had a non-finite loss or gradient ` +
        `(${state.badSteps} skipped in all; see bad_step records in ${join(r.opts.expDir, "train.log.jsonl")}). ` +
        `Lower the peak learning rate (--lr, now ${settings.lr}) or lengthen --warmup, check the listed utterances' features, ` +
        `then continue from the last checkpoint with --resume.`,
    );
  }
}

/** The "train" record of an applied update. */
function logUpdate(r: TrainRun, step: number, u: UpdateResult, normalizer: number, seconds: number): void {
  const { sums } = u;
  const n = normalizer;
  r.log.log("train", {
    step,
    epoch: r.state.epoch,
    loss: u.loss,
    loss_src: sums.src / n,
    loss_src_inter: sums.srcInter / n,
    loss_tgt: sums.tgt / n,
    loss_tgt_inter: sums.tgtInter / n,
    ...(r.retrofit ? { loss_kl: sums.kl / n } : {}),
    ...(r.dp ? { commMs: r.dp.sync.last.commMs } : {}),
    lr: r.trainee.opt.lr,
    gradNorm: u.gradNorm,
    frames: u.frames,
    framesPerSecond: u.frames / seconds,
    msPerStep: seconds * 1000,
    replaced: sums.validFrames > 0 ? sums.replaced / sums.validFrames : 0,
    mistakes: sums.validFrames > 0 ? sums.mistakes / sums.validFrames : 0,
    infeasible: u.infeasible,
    tokens: normalizer,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
}

/** Micro-batches per update over all ranks. */
function groupSize(r: { settings: TrainSettings; dp: DataParallel | null }): number {
  return r.settings.accum * (r.dp?.worldSize ?? 1);
}

/** Batch positions from `from` on that this rank runs, in the order it runs them (its share of each group). */
function ownPlan(r: TrainRun, from: number, total: number): number[] {
  const size = groupSize(r);
  const out: number[] = [];
  for (let g = from; g < total; g += size) for (const k of shareOf(Math.min(size, total - g), r.dp?.rank ?? 0, r.dp?.worldSize ?? 1)) out.push(g + k);
  return out;
}

/**
 * The next update of the epoch: the group of micro-batches from state.batchInEpoch and this rank's share of it,
 * each with its random streams from (seed, epoch, batch) (the module comment), the update itself, then the
 * log, and validation with a checkpoint every validEvery updates. False when the update was skipped (non-finite).
 */
async function nextUpdate(r: TrainRun, batches: number[][], jobOf: (j: number) => CollateJob): Promise<boolean> {
  const { state, settings } = r;
  const t0 = performance.now();
  const first = state.batchInEpoch;
  const micro = batches.slice(first, first + groupSize(r));
  const mine = ownPlan(r, first, first + micro.length);
  const step = state.step + 1;
  const normalizer = Math.max(1, micro.flat().reduce((n, i) => n + r.data.train.meta(i).tgtIds.length, 0));
  const u = await update(r.trainee, settings, {
    step,
    streamOf: (m) => {
      const rng = new Rng(`${state.seed}:${state.epoch}:${mine[m]!}`);
      manualSeed(rng.nextUint32());
      return rng;
    },
    device: r.opts.device,
    bf16: r.bf16,
    klWeight: r.retrofit ? r.retrofit.klWeight : null,
    micro: mine.length,
    take: (m) => r.feed.take(jobOf(mine[m]!)),
    normalizer,
    sync: r.dp?.sync ?? null,
    shared: stopVotes(r),
  });
  const [sigint = 0, sigterm = 0, late = 0] = u.shared;
  r.agreed = { signal: sigint > 0 ? "SIGINT" : sigterm > 0 ? "SIGTERM" : null, timeUp: late > 0 };
  state.batchInEpoch += micro.length;
  if (!u.applied) {
    skipUpdate(r, step, { epoch: state.epoch, batch: first }, micro, u);
    return false;
  }
  r.consecutiveBad = 0;
  state.step = step;
  state.elapsed = (performance.now() - r.startTime) / 1000;
  r.lastLoss = u.loss;
  if (step % settings.logEvery === 0 || step === 1) logUpdate(r, step, u, normalizer, (performance.now() - t0) / 1000);
  const opt = r.trainee.opt;
  r.progress.tick(1, `ep ${state.epoch + 1} loss ${u.loss.toFixed(3)} lr ${opt.lr.toExponential(1)}${r.lastBleu !== null ? ` bleu ${r.lastBleu.toFixed(1)}` : ""}`);
  if (step % settings.validEvery === 0 && leads(r)) checkpoint(r, validation(r));
  return true;
}

/** Epochs of updates until shouldStop, then the last validation and checkpoint if the last update has none. */
async function trainLoop(r: TrainRun): Promise<void> {
  const { state, settings, data } = r;
  while (!shouldStop(r)) {
    const batches = batchesByFrames(data.keptFrames, settings.maxFrames, state.seed, state.epoch).map((b) => b.map((k) => data.kept[k]!));
    // SpecAugment has a stream per batch position (not the update's rng), so a worker can collate ahead.
    const jobOf = (j: number): CollateJob => ({ indices: batches[j]!, augmentKey: settings.specAugment ? specAugmentKey(state.seed, state.epoch, j) : null });
    r.feed.setPlan(ownPlan(r, state.batchInEpoch, batches.length).map(jobOf));
    while (state.batchInEpoch < batches.length && !shouldStop(r)) {
      // Yield to the event loop after every applied update (microseconds) so that signals and stdout stay responsive.
      if (await nextUpdate(r, batches, jobOf)) await new Promise((resolve) => setImmediate(resolve));
    }
    if (state.batchInEpoch >= batches.length) {
      r.log.log("epoch", { epoch: state.epoch + 1, step: state.step, batches: batches.length });
      state.epoch++;
      state.batchInEpoch = 0;
    }
  }
  if (r.lastSaved !== state.step && leads(r)) checkpoint(r, validation(r));
}

/** The device and precision: CUDA checked, TF32 and bf16 autocast as --precision says. */
function setUpDevice(opts: TrainOptions): { cuda: boolean; bf16: boolean } {
  if (opts.threads !== null) setNumThreads(opts.threads);
  const cuda = opts.device.startsWith("cuda");
  if (cuda && !cudaAvailable()) {
    throw new UsageError(`--device ${opts.device}: libtorch reports no CUDA device (build the kernels against a CUDA libtorch, see docs/gpu.md)`);
  }
  if (cuda) setTF32(opts.precision === "tf32");
  return { cuda, bf16: cuda && opts.precision === "bf16" };
}

export async function train(given: TrainOptions): Promise<TrainSummary> {
  const dist = given.dist ?? null;
  // One GPU per rank: plain "cuda" means the rank's own, cuda:LOCAL_RANK.
  const opts = dist && given.device === "cuda" ? { ...given, device: `cuda:${dist.env.localRank}` } : given;
  const { cuda, bf16 } = setUpDevice(opts);
  const dp = dist ? joinDataParallel(dist.env, { device: opts.device, timeoutSeconds: dist.timeoutSeconds, bucketMb: dist.bucketMb }) : null;
  try {
    return await trainOn(opts, dp, cuda, bf16);
  } catch (err) {
    throw dp ? explainFailure(dp, err) : err;
  }
}

async function trainOn(opts: TrainOptions, dp: DataParallel | null, cuda: boolean, bf16: boolean): Promise<TrainSummary> {
  const lead = leads({ dp });
  if (lead) removeStaleTemporaries(join(opts.expDir, "checkpoints"));
  const log = lead ? new JsonLogger(join(opts.expDir, "train.log.jsonl")) : new JsonLogger();
  const spmPath = join(opts.dataDir, "spm.model");
  if (!existsSync(spmPath)) throw new InputError(opts.dataDir, "has no spm.model: prepare the data first (nast prep --mustc ROOT --pair P -o DATA_DIR)");
  const spm = SentencePiece.load(spmPath);
  const resolved = resolveRun(opts, log, spm, spmPath);
  const { cfg, settings, state } = resolved;
  const data = openData(opts.dataDir, settings, resolved.resumedTalks);
  const trainee = buildModel(resolved, opts);
  // A fresh run's weights from rank 0, so that no rank's initialisation can differ; a resumed run's come from one file.
  if (dp && !resolved.resumed) broadcastFromRank0(dp, [...trainee.params.values()]);
  if (lead) recordStart(opts, log, resolved, data, trainee, cuda, dp);

  const perEpoch = Math.ceil(batchesByFrames(data.keptFrames, settings.maxFrames, state.seed, 0).length / groupSize({ settings, dp }));
  const total = settings.maxSteps ?? (settings.maxEpochs ?? 1) * perEpoch;
  const r: TrainRun = {
    opts, log, spm, cuda, bf16, cfg, settings, retrofit: resolved.retrofit, state, data, trainee,
    feed: new CollateFeed(data.train, { worker: opts.prefetch ?? true, onFallback: (reason) => log.log("prefetch_off", { step: state.step, reason }) }),
    progress: new Progress({ total, label: "train", unit: " upd", ...(opts.progress !== undefined || !lead ? { enabled: lead && opts.progress !== false } : {}) }),
    lastSaved: resolved.resumed ? state.step : -1,
    lastLoss: null, lastBleu: null, bestBleu: null, consecutiveBad: 0, stopReason: "", signalled: null,
    startTime: performance.now() - state.elapsed * 1000,
    invocationStart: performance.now(),
    dp,
    agreed: { signal: null, timeUp: false },
  };
  r.progress.tick(state.step);
  const removeSignalHandlers = stopOnSignals(r);
  try {
    await trainLoop(r);
  } finally {
    r.progress.finish();
    removeSignalHandlers();
    await r.feed.close();
    data.train.close();
    data.dev?.close();
  }
  log.log("done", { step: state.step, epoch: state.epoch, badSteps: state.badSteps, loss: r.lastLoss, bleu: r.lastBleu, bestBleu: r.bestBleu, reason: r.stopReason, seconds: state.elapsed });
  const signal: NodeJS.Signals | null = r.stopReason.startsWith("stopped by ") ? (dp ? r.agreed.signal : r.signalled) : null;
  return { steps: state.step, epochs: state.epoch, badSteps: state.badSteps, lastLoss: r.lastLoss, lastBleu: r.lastBleu, bestBleu: r.bestBleu, stopReason: r.stopReason, signal };
}
