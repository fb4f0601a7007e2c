// `nast prep`: a MuST-C-layout corpus → DATA_DIR/spm.model + DATA_DIR/<split>/ feature stores.
// Steps: read and check every split's YAML and texts; train (or reuse) the shared SentencePiece model
// on the train transcripts and translations; compute fbank per talk in parallel worker threads, each
// talk into its own shard; merge shards into one data file + index with token ids, filtered as the
// reference recipe (docs/model.md §2.1, fairseq's filter_manifest_df: < 5 frames or an empty target everywhere,
// > 3000 frames in train); write the COMPLETE marker last. Completed shards survive a kill, so a
// re-run only does what is missing.
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SentencePiece } from "../text/sentencepiece.ts";
import { trainSentencePiece } from "../text/train.ts";
import { InputError } from "../util/errors.ts";
import type { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { spawnWorker } from "../util/spawn-worker.ts";
import { hiddenTempPath, writeFileAtomic } from "../formats/atomic-file.ts";
import {
  FEATURE_DIM,
  STORE_DATA,
  STORE_FORMAT,
  STORE_INDEX,
  STORE_MARKER,
  STORE_VERSION,
  bytesPerValue,
  readStoreMarker,
  type FeatureDtype,
  type StoreColumns,
  type StoreIndex,
  type StoreMarker,
} from "./feature-store.ts";
import { readMustcSplits, withTargets, type MustcSplit } from "./mustc.ts";
import { prepareTalk, type TalkResult, type TalkTask } from "./prep-worker.ts";
import { readShardMeta, shardPaths } from "./shards.ts";
import { runPool } from "./worker-pool.ts";

export interface PrepOptions {
  /** One or more MuST-C roots: each split is the union of that split in every root that has it. */
  mustc: string[];
  pair: string;
  out: string;
  splits: string[];
  vocabSize: number;
  dtype: FeatureDtype;
  jobs: number;
  /** Use this SentencePiece model instead of training one. */
  spm?: string;
  /** Translations that replace the train split's (one line per YAML segment): sequence-level distillation. */
  targets?: string;
  minFrames: number;
  /** Applied to the train split only, as in fairseq. */
  maxFrames: number;
  log: JsonLogger;
  /** Human-readable lines (stdout). */
  say: (line: string) => void;
  progress?: boolean;
}

export interface SplitSummary {
  split: string;
  utterances: number;
  hours: number;
  filtered: StoreMarker["filtered"];
  failedTalks: string[];
  talksComputed: number;
  seconds: number;
}

export interface PrepSummary {
  splits: SplitSummary[];
  /** One message per failed input (split or talk); non-empty means exit non-zero. */
  errors: string[];
}

export const SPM_MODEL = "spm.model";
/** Beside spm.model: the --vocab it was trained for. */
const SPM_INFO = "spm.json";
const TRAIN_SPLIT = "train";

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export async function prepareMustc(opts: PrepOptions): Promise<PrepSummary> {
  const errors: string[] = [];
  mkdirSync(opts.out, { recursive: true });
  opts.log.log("prep_start", { mustc: opts.mustc, pair: opts.pair, out: opts.out, splits: opts.splits, vocab: opts.vocabSize, dtype: opts.dtype, jobs: opts.jobs });

  const splits: MustcSplit[] = [];
  for (const name of opts.splits) {
    try {
      const read = readMustcSplits(opts.mustc, opts.pair, name);
      const split = name === TRAIN_SPLIT && opts.targets !== undefined ? withTargets(read, opts.targets) : read;
      splits.push(split);
      opts.log.log("split_read", { split: name, segments: split.segments.length, talks: split.talks.length, ...(split !== read ? { targets: opts.targets } : {}) });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.push(err.message);
      opts.log.log("split_failed", { split: name, error: err.message });
    }
  }

  const spm = await obtainSentencePiece(opts, splits);
  if (!spm) {
    errors.push(`no SentencePiece model: ${join(opts.out, SPM_MODEL)} does not exist and the train split (which trains it) is not in --splits or could not be read; add train, or pass --spm MODEL`);
    return { splits: [], errors };
  }

  const summaries: SplitSummary[] = [];
  for (const split of splits) {
    const summary = await prepareSplit(opts, split, spm.model, spm.sha);
    summaries.push(summary);
    for (const t of summary.failedTalks) errors.push(t);
  }
  opts.log.log("prep_done", { errors: errors.length });
  return { splits: summaries, errors };
}

async function obtainSentencePiece(opts: PrepOptions, splits: MustcSplit[]): Promise<{ model: SentencePiece; sha: string } | undefined> {
  const path = join(opts.out, SPM_MODEL);
  if (opts.spm !== undefined) {
    SentencePiece.load(opts.spm); // fail early on a bad model
    if (!existsSync(path) || sha256(path) !== sha256(opts.spm)) {
      const tmp = hiddenTempPath(path);
      copyFileSync(opts.spm, tmp);
      renameSync(tmp, path);
      rmSync(join(opts.out, SPM_INFO), { force: true });
    }
  } else if (existsSync(path)) {
    // Resuming: the model of the first run is kept, so token ids stay consistent across runs. The
    // requested size is recorded beside it (spm_train's soft limit may have trained fewer pieces).
    const info = join(opts.out, SPM_INFO);
    const trainedFor = existsSync(info) ? (JSON.parse(readFileSync(info, "utf8")) as { vocab: number }).vocab : opts.vocabSize;
    if (trainedFor !== opts.vocabSize) {
      throw new InputError(path, `was trained for --vocab ${trainedFor}, not ${opts.vocabSize}; use a new output directory or delete it to retrain`);
    }
  } else {
    const train = splits.find((s) => s.split === TRAIN_SPLIT);
    if (!train) return undefined;
    const textPath = join(opts.out, ".spm-train.txt");
    const lines = train.segments.flatMap((s) => [s.src, s.tgt]).filter((l) => l.length > 0);
    writeFileAtomic(textPath, lines.join("\n") + "\n", hiddenTempPath);
    const t0 = performance.now();
    opts.say(`training SentencePiece (unigram, ${opts.vocabSize} pieces) on ${lines.length} lines of ${train.srcPath} + ${train.tgtPath}`);
    const model = await trainSentencePiece({ inputs: [textPath], modelPath: path, vocabSize: opts.vocabSize, threads: Math.max(1, opts.jobs) });
    rmSync(textPath, { force: true });
    writeFileAtomic(join(opts.out, SPM_INFO), JSON.stringify({ vocab: opts.vocabSize, pieces: model.vocabSize }) + "\n", hiddenTempPath);
    opts.log.log("spm_trained", { path, vocabSize: model.vocabSize, seconds: (performance.now() - t0) / 1000 });
    if (model.vocabSize !== opts.vocabSize) opts.say(`SentencePiece: the corpus supports ${model.vocabSize} pieces (asked for ${opts.vocabSize})`);
  }
  return { model: SentencePiece.load(path), sha: sha256(path) };
}

async function prepareSplit(opts: PrepOptions, split: MustcSplit, spm: SentencePiece, spmSha: string): Promise<SplitSummary> {
  const t0 = performance.now();
  const dir = join(opts.out, split.split);
  const shardDir = join(dir, "shards");
  const marker = readStoreMarker(dir);
  const base = { split: split.split, talksComputed: 0 };
  if (marker && marker.failedTalks.length === 0 && marker.dtype === opts.dtype) {
    const index = JSON.parse(readFileSync(join(dir, STORE_INDEX), "utf8")) as StoreIndex;
    if (marker.spmSha256 !== spmSha) {
      retokenize(dir, index, marker, spm, spmSha);
      opts.say(`${split.split}: features already prepared; token ids redone for the new ${SPM_MODEL}`);
    } else opts.say(`${split.split}: already prepared (${marker.count} utterances), skipping`);
    opts.log.log("split_skipped", { split: split.split, reason: "complete" });
    rmSync(shardDir, { recursive: true, force: true }); // left over if a kill came right after the marker
    const frames = index.columns.frames.reduce((a, b) => a + b, 0);
    return { ...base, utterances: marker.count, hours: frames / 100 / 3600, filtered: marker.filtered, failedTalks: [], seconds: 0 };
  }
  mkdirSync(shardDir, { recursive: true });

  const tasks: TalkTask[] = [];
  for (const talk of split.talks) {
    if (readShardMeta(shardDir, talk.talk, opts.dtype)) continue;
    tasks.push({
      talk: talk.talk,
      wav: talk.wav,
      where: `${talk.yamlPath}:${talk.segments.reduce((m, s) => Math.min(m, s.line), Infinity)}`,
      segments: talk.segments.map((s) => ({ id: s.id, startSample: s.startSample, numSamples: s.numSamples })),
      shardDir,
      dtype: opts.dtype,
    });
  }
  if (tasks.length < split.talks.length) {
    opts.say(`${split.split}: resuming, ${split.talks.length - tasks.length} of ${split.talks.length} talks already done`);
  }

  const failed = new Map<string, string>();
  const progress = new Progress({ total: tasks.length, label: `${split.split} fbank`, unit: " talks", ...(opts.progress !== undefined ? { enabled: opts.progress } : {}) });
  let audioSeconds = 0;
  const onResult = (r: TalkResult) => {
    if (r.ok) {
      audioSeconds += r.audioSeconds;
      opts.log.log("talk_done", { split: split.split, talk: r.talk, utterances: r.utterances, frames: r.frames, audioSeconds: r.audioSeconds, truncated: r.truncated });
    } else {
      failed.set(r.talk, r.error);
      opts.log.log("talk_failed", { split: split.split, talk: r.talk, error: r.error });
    }
    progress.tick(1, `${(audioSeconds / 3600).toFixed(2)} h audio`);
  };
  if (opts.jobs <= 1) {
    for (const task of tasks) onResult(await prepareTalk(task));
  } else {
    await runPool<TalkTask, TalkResult>(() => spawnWorker(import.meta.url, "prep-worker", "or run with --jobs 1"), tasks, opts.jobs, onResult, (task, error) => ({
      talk: task.talk,
      ok: false,
      error: `${task.wav}: the worker preparing talk ${task.talk} died (${error.message})`,
    }));
  }
  progress.finish();
  const computeSeconds = (performance.now() - t0) / 1000;
  if (tasks.length > 0) {
    opts.log.log("split_features", { split: split.split, talks: tasks.length, failed: failed.size, audioSeconds, seconds: computeSeconds, realtimeFactor: audioSeconds / computeSeconds });
  }

  const merged = mergeSplit(opts, split, dir, shardDir, spm, spmSha, [...failed.keys()]);
  if (failed.size === 0) rmSync(shardDir, { recursive: true, force: true });
  const seconds = (performance.now() - t0) / 1000;
  opts.log.log("split_done", { split: split.split, utterances: merged.count, filtered: merged.filtered, failedTalks: [...failed.keys()], seconds });
  return {
    ...base,
    talksComputed: tasks.length,
    utterances: merged.count,
    hours: merged.frames / 100 / 3600,
    filtered: merged.filtered,
    failedTalks: [...failed.values()],
    seconds,
  };
}

/** Concatenates the shards (in fairseq order) into feats.bin + index.json, then writes COMPLETE. */
function mergeSplit(
  opts: PrepOptions,
  split: MustcSplit,
  dir: string,
  shardDir: string,
  spm: SentencePiece,
  spmSha: string,
  failedTalks: string[],
): { count: number; frames: number; filtered: StoreMarker["filtered"] } {
  // The old marker goes first: from here until the new one is written the store is unfinished.
  rmSync(join(dir, STORE_MARKER), { force: true });
  for (const f of readdirSync(dir)) if (/^\.(feats\.bin|index\.json|COMPLETE)\.tmp-/.test(f)) rmSync(join(dir, f), { force: true });
  const bpv = bytesPerValue(opts.dtype);
  const cols: StoreColumns = { id: [], talk: [], offset: [], duration: [], speaker: [], frames: [], start: [], src: [], tgt: [], srcIds: [], tgtIds: [] };
  const filtered = { tooShort: 0, tooLong: 0, emptyTarget: 0 };
  const isTrain = split.split === TRAIN_SPLIT;
  const dataPath = join(dir, STORE_DATA);
  const tmp = hiddenTempPath(dataPath);
  const out = openSync(tmp, "w");
  let written = 0; // values
  let totalFrames = 0;
  const failed = new Set(failedTalks);
  try {
    for (const talk of split.talks) {
      if (failed.has(talk.talk)) continue;
      const meta = readShardMeta(shardDir, talk.talk, opts.dtype);
      if (!meta) throw new Error(`shard of talk ${talk.talk} is missing in ${shardDir}`);
      const byId = new Map(talk.segments.map((s) => [s.id, s]));
      const inFd = openSync(shardPaths(shardDir, talk.talk).bin, "r");
      try {
        let pos = 0; // bytes into the shard
        for (const u of meta.utterances) {
          const bytes = u.frames * FEATURE_DIM * bpv;
          const seg = byId.get(u.id);
          if (!seg) throw new Error(`shard ${talk.talk} holds unknown utterance ${u.id}`);
          const reason = u.frames < opts.minFrames ? "tooShort" : isTrain && u.frames > opts.maxFrames ? "tooLong" : seg.tgt.length === 0 ? "emptyTarget" : undefined;
          if (reason) filtered[reason]++;
          else {
            copyRange(inFd, pos, out, bytes);
            cols.id.push(u.id);
            cols.talk.push(talk.talk);
            cols.offset.push(seg.offset);
            cols.duration.push(seg.duration);
            cols.speaker.push(seg.speaker);
            cols.frames.push(u.frames);
            cols.start.push(written);
            cols.src.push(seg.src);
            cols.tgt.push(seg.tgt);
            cols.srcIds.push(spm.encode(seg.src));
            cols.tgtIds.push(spm.encode(seg.tgt));
            written += u.frames * FEATURE_DIM;
            totalFrames += u.frames;
          }
          pos += bytes;
        }
      } finally {
        closeSync(inFd);
      }
    }
  } finally {
    closeSync(out);
  }
  renameSync(tmp, dataPath);
  const index: StoreIndex = { format: STORE_FORMAT, version: STORE_VERSION, split: split.split, dtype: opts.dtype, dim: FEATURE_DIM, count: cols.id.length, columns: cols };
  writeFileAtomic(join(dir, STORE_INDEX), JSON.stringify(index), hiddenTempPath);
  const marker: StoreMarker = {
    count: cols.id.length,
    dataBytes: written * bpv,
    dtype: opts.dtype,
    spmSha256: spmSha,
    failedTalks,
    filtered,
    finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, STORE_MARKER), JSON.stringify(marker, null, 1) + "\n", hiddenTempPath);
  return { count: cols.id.length, frames: totalFrames, filtered };
}

/** A complete store whose spm.model changed: only the token ids are redone (index, then marker). */
function retokenize(dir: string, index: StoreIndex, marker: StoreMarker, spm: SentencePiece, spmSha: string): void {
  rmSync(join(dir, STORE_MARKER), { force: true });
  index.columns.srcIds = index.columns.src.map((t) => spm.encode(t));
  index.columns.tgtIds = index.columns.tgt.map((t) => spm.encode(t));
  writeFileAtomic(join(dir, STORE_INDEX), JSON.stringify(index), hiddenTempPath);
  writeFileAtomic(join(dir, STORE_MARKER), JSON.stringify({ ...marker, spmSha256: spmSha, finishedAt: new Date().toISOString() }, null, 1) + "\n", hiddenTempPath);
}

const COPY_CHUNK = 1 << 20;
const copyBuf = Buffer.alloc(COPY_CHUNK);

function copyRange(inFd: number, inPos: number, outFd: number, length: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(inFd, copyBuf, 0, Math.min(COPY_CHUNK, length - done), inPos + done);
    if (n === 0) throw new Error(`shard ended early (wanted ${length} bytes at ${inPos})`);
    let w = 0;
    while (w < n) w += writeSync(outFd, copyBuf, w, n - w);
    done += n;
  }
}
