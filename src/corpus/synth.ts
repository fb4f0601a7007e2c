// The speech side: runs the talk plan with `jobs` talks at a time (each talk is a chain of engine and
// sox processes, so concurrent talks use all cores), writes each talk WAV and its segment times
// atomically, and finally the MuST-C text files. Resumable: a talk whose WAV and times exist is not
// made again, so a killed run continues where it stopped; a failed talk leaves the others done.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
// Per-process temporary names (<path>.tmp-<pid>): shards of one corpus start together and write the same plan file.
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Progress } from "../util/progress.ts";
import type { JsonLogger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { Rng } from "./rng.ts";
import { runPool } from "./process.ts";
import { synthesizeSentences } from "./engines.ts";
import { limitPeak, sampleRate, toSpeech16k, wavBytes } from "./effects.ts";
import { type AugmentAssets, applyAugmentation, augmentColumns, describeAugmentation } from "./augment.ts";
import { heldoutSplit, type TalkPlan } from "./talks.ts";
import type { Tools } from "./tools.ts";
import { describeSpeaker } from "./voices.ts";
import { devSplit, testSplit, trainSplit } from "./corpus-text.ts";

export const splitsInOrder = [trainSplit, devSplit, testSplit, heldoutSplit];

export interface SynthOptions {
  outDir: string;
  pair: string;
  jobs: number;
  tools: Tools;
  seed: number;
  logger?: JsonLogger;
  progress?: boolean;
  /**
   * Make only talks k, k+n, k+2n, ... and no text files: n processes with a few jobs each share one
   * corpus when one Node process's own work (mixing, noise, WAV encoding) would limit the speed on many
   * cores; a last run without a shard finds every talk done and writes the text files.
   */
  shard?: { index: number; count: number };
  /** Write the text files of the talks that were made even when some failed (they are left out, and listed). */
  skipFailed?: boolean;
  /** The asset kit for the real-asset augmentation kinds (`nast corpus assets`), when the plan uses it. */
  assets?: AugmentAssets | null;
}

/** Where a made talk's segments lie (kept beside its WAV, so that a resumed run can write the texts). */
export interface TalkTimes {
  samples: number;
  segments: { offset: number; duration: number }[];
}

/** What a run of a corpus writer (synthetic or real speech) did. */
export interface CorpusRunSummary {
  talks: number;
  made: number;
  resumed: number;
  failed: { talk: string; error: string }[];
  /** Per split, after a complete run (not a shard). */
  seconds: Record<string, number>;
  segments: Record<string, number>;
}

export interface SynthSummary extends CorpusRunSummary {
  /** Audio made by this run (not resumed). */
  madeSeconds: number;
  wallSeconds: number;
}


export function talkName(t: TalkPlan): string {
  return `ted_${t.n}`;
}

export async function synthesizeCorpus(talks: readonly TalkPlan[], opts: SynthOptions): Promise<SynthSummary> {
  const start = performance.now();
  const pairDir = join(opts.outDir, opts.pair);
  const stateDir = join(pairDir, ".synth");
  mkdirSync(stateDir, { recursive: true });
  checkPlan(stateDir, talks, pairDir);
  const splits = splitsInOrder.filter((s) => talks.some((t) => t.split === s));
  for (const s of splits) {
    mkdirSync(join(pairDir, "data", s, "wav"), { recursive: true });
    mkdirSync(join(pairDir, "data", s, "txt"), { recursive: true });
    mkdirSync(join(stateDir, s), { recursive: true });
  }
  const timesPath = (t: TalkPlan) => join(stateDir, t.split, `${talkName(t)}.json`);
  const wavPath = (t: TalkPlan) => join(pairDir, "data", t.split, "wav", `${talkName(t)}.wav`);

  const summary: SynthSummary = { talks: opts.shard ? Math.ceil((talks.length - opts.shard.index) / opts.shard.count) : talks.length, made: 0, resumed: 0, failed: [], seconds: {}, madeSeconds: 0, segments: {}, wallSeconds: 0 };
  const mine = opts.shard ? talks.filter((_, i) => i % opts.shard!.count === opts.shard!.index) : talks;
  const todo = mine.filter((t) => !(existsSync(timesPath(t)) && existsSync(wavPath(t))));
  summary.resumed = mine.length - todo.length;
  const progress = new Progress({ total: todo.length, label: "synth talks", enabled: opts.progress });
  let audioSeconds = 0;
  await writeTalks(todo, summary, {
    jobs: opts.jobs,
    render: (talk) => renderTalk(talk, opts),
    wavPath,
    timesPath,
    name: talkName,
    logged: (talk) => ({ speaker: describeSpeaker(talk.speaker) }),
    logger: opts.logger,
    done: (seconds) => {
      audioSeconds += seconds;
      summary.madeSeconds += seconds;
      const wall = (performance.now() - start) / 1000;
      progress.tick(1, `${(audioSeconds / 3600).toFixed(2)} h, ${(audioSeconds / wall).toFixed(0)}x real time`);
    },
  });
  progress.finish();
  if ((summary.failed.length === 0 || opts.skipFailed) && !opts.shard) {
    const made = (t: TalkPlan) => existsSync(timesPath(t)) && existsSync(wavPath(t));
    for (const s of splits) {
      const st = writeSplitText(pairDir, s, talks.filter((t) => t.split === s && made(t)), opts.pair, timesPath);
      summary.seconds[s] = st.seconds;
      summary.segments[s] = st.segments;
    }
    writeSpeakers(pairDir, talks);
  }
  summary.wallSeconds = (performance.now() - start) / 1000;
  return summary;
}

/**
 * Renders each talk on `jobs` workers and writes its WAV and segment times atomically (so a killed run
 * resumes at the talks not written); counts and logs each talk made or failed in `summary`. `done` gets the
 * seconds of audio of each talk made (0 for a failed one).
 */
export async function writeTalks<T extends { split: string }>(
  todo: readonly T[],
  summary: CorpusRunSummary,
  o: {
    jobs: number;
    render: (talk: T) => Promise<{ wav: Buffer; times: TalkTimes }>;
    wavPath: (talk: T) => string;
    timesPath: (talk: T) => string;
    name: (talk: T) => string;
    /** More fields of the talk's "talk" log record. */
    logged: (talk: T) => Record<string, unknown>;
    logger?: JsonLogger;
    done: (seconds: number) => void;
  },
): Promise<void> {
  await runPool(todo, o.jobs, async (talk) => {
    let seconds = 0;
    try {
      const { wav, times } = await o.render(talk);
      writeFileAtomic(o.wavPath(talk), wav);
      writeFileAtomic(o.timesPath(talk), JSON.stringify(times));
      summary.made++;
      seconds = times.samples / sampleRate;
      o.logger?.log("talk", { split: talk.split, talk: o.name(talk), seconds, ...o.logged(talk) });
    } catch (err) {
      summary.failed.push({ talk: `${talk.split}/${o.name(talk)}`, error: errorMessage(err) });
      o.logger?.log("talk_failed", { split: talk.split, talk: o.name(talk), error: errorMessage(err) });
    }
    o.done(seconds);
  });
}

/** Refuses to resume into a folder made from another plan (other seed, sentences or options). */
function checkPlan(stateDir: string, talks: readonly TalkPlan[], pairDir: string): void {
  const digest = createHash("sha256").update(JSON.stringify(talks)).digest("hex");
  const path = join(stateDir, "plan.sha256");
  if (existsSync(path)) {
    if (readFileSync(path, "utf8").trim() !== digest) {
      throw new Error(`${pairDir} holds a corpus made with other sentences or options; remove it or choose another -o`);
    }
  } else writeFileAtomic(path, `${digest}\n`);
}

/**
 * A talk's audio: each segment after its pause (samples), then `tail` samples of silence; where each
 * segment lies, in seconds (the YAML times) and in samples (the speech spans the augmentation keeps).
 */
export function joinWithPauses(audio: readonly Float32Array[], pauses: readonly number[], tail: number): { x: Float32Array; total: number; segments: TalkTimes["segments"]; speech: [number, number][] } {
  const total = audio.reduce((n, a, i) => n + a.length + pauses[i]!, 0) + tail;
  const x = new Float32Array(total);
  const segments: TalkTimes["segments"] = [];
  const speech: [number, number][] = [];
  let pos = 0;
  audio.forEach((a, i) => {
    pos += pauses[i]!;
    x.set(a, pos);
    segments.push({ offset: pos / sampleRate, duration: a.length / sampleRate });
    speech.push([pos, pos + a.length]);
    pos += a.length;
  });
  return { x, total, segments, speech };
}

async function renderTalk(talk: TalkPlan, opts: SynthOptions): Promise<{ wav: Buffer; times: TalkTimes }> {
  const dir = mkdtempSync(join(tmpdir(), "nast-synth-"));
  try {
    const texts = talk.segments.map((s) => s.entry.en);
    const raw = await synthesizeSentences(talk.speaker, texts, dir, opts.tools);
    const audio: Float32Array[] = [];
    for (const path of raw) audio.push(await toSpeech16k(path, talk.speaker, talk.aug, opts.tools));
    const pauses = talk.segments.map((s) => Math.round(s.pause * sampleRate));
    const tail = Math.round(talk.tail * sampleRate);
    const { x, total, segments, speech } = joinWithPauses(audio, pauses, tail);
    // The talk-level augmentation (VTLP, room, additive sources, level, codec) keeps the length and the
    // timing, so the segment times above stay valid; speed/tempo/pitch were applied per segment.
    const noiseRng = Rng.derive(opts.seed, "noise", talk.split, talk.n);
    const y = await applyAugmentation(x, talk.aug, opts.assets ?? null, opts.tools, noiseRng, { voice: false, speech });
    limitPeak(y);
    return { wav: wavBytes(y), times: { samples: total, segments } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `- {duration: 3.500000, offset: 16.090000, speaker_id: spk.767, wav: ted_767.wav}`: MuST-C v1.0's line format. */
export function yamlLine(duration: number, offset: number, speaker: string, wav: string): string {
  return `- {duration: ${duration.toFixed(6)}, offset: ${offset.toFixed(6)}, speaker_id: ${speaker}, wav: ${wav}}`;
}

/** One segment of a split as MuST-C lists it: its place in a talk WAV, its speaker and its two texts. */
export interface SplitSegment {
  duration: number;
  offset: number;
  speaker: string;
  wav: string;
  src: string;
  tgt: string;
}

/**
 * A split's text files, DIR/<pair>/data/<split>/txt/<split>.{<src>,<tgt>,yaml}, each atomically; the yaml
 * last, since it is what makes the split readable (src/data/mustc.ts).
 */
export function writeSplitTexts(pairDir: string, split: string, pair: string, segments: readonly SplitSegment[]): void {
  const [src, tgt] = pair.split("-") as [string, string];
  const txt = join(pairDir, "data", split, "txt");
  writeFileAtomic(join(txt, `${split}.${src}`), segments.map((s) => s.src).join("\n") + "\n");
  writeFileAtomic(join(txt, `${split}.${tgt}`), segments.map((s) => s.tgt).join("\n") + "\n");
  writeFileAtomic(join(txt, `${split}.yaml`), segments.map((s) => yamlLine(s.duration, s.offset, s.speaker, s.wav)).join("\n") + "\n");
}

function writeSplitText(
  pairDir: string,
  split: string,
  talks: readonly TalkPlan[],
  pair: string,
  timesPath: (t: TalkPlan) => string,
): { seconds: number; segments: number } {
  const segments: SplitSegment[] = [];
  let seconds = 0;
  for (const talk of talks) {
    const times = JSON.parse(readFileSync(timesPath(talk), "utf8")) as TalkTimes;
    seconds += times.samples / sampleRate;
    talk.segments.forEach((seg, i) => {
      const t = times.segments[i]!;
      segments.push({ duration: t.duration, offset: t.offset, speaker: talk.speaker.id, wav: `${talkName(talk)}.wav`, src: seg.entry.en, tgt: seg.entry.tgt });
    });
  }
  writeSplitTexts(pairDir, split, pair, segments);
  return { seconds, segments: segments.length };
}

/** speakers.tsv: who speaks each talk and how it was augmented (for the model card). */
function writeSpeakers(pairDir: string, talks: readonly TalkPlan[]): void {
  const rows = [["speaker_id", "split", "wav", "engine", "voice", "variant", "rate", "pitch", "tempo", "cents", ...augmentColumns].join("\t")];
  for (const t of talks) {
    const s = t.speaker;
    rows.push([s.id, t.split, `${talkName(t)}.wav`, s.engine, s.voice, s.variant ?? "", s.rate ?? "", s.pitch ?? "", s.tempo ?? "", s.cents ?? "", ...describeAugmentation(t.aug)].join("\t"));
  }
  writeFileAtomic(join(pairDir, "speakers.tsv"), rows.join("\n") + "\n");
}
