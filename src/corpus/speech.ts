// A corpus of real recorded speech in MuST-C layout, for training beside the synthetic one: folders of
// clips with a manifest.tsv each (file, seconds, speaker, transcript; e.g. read speech of many speakers
// converted to Opus). Two steps, like `corpus text` and `corpus synth`, so that the audio side can run on
// a machine without apertium:
//   text   read every manifest, clean the transcripts, translate them with apertium, and hold out whole
//          speakers for validation (split dev-real): a TSV
//   audio  one speaker's clips, in manifest order, make talks (MuST-C has one speaker per talk); each clip
//          is decoded by opusdec (opus-tools), clips are joined with short pauses, and train talks are
//          written `copies` times, each copy after the first with its own drawn augmentation plan (the
//          synthetic corpus' kinds: src/corpus/augment.ts), which both weighs the few hours of real
//          speech up against the synthetic ones and varies their acoustics.
// Talk names start with "real_", so they never meet the synthetic corpus' "ted_" talks when both are
// prepared together (`nast prep --mustc SYNTH --mustc REAL`).
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.ts";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import type { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { runProcessBytes } from "./process.ts";
import { Rng } from "./rng.ts";
import { limitPeak, sampleRate, wavBytes } from "./effects.ts";
import { applyAugmentation, voiceEffects, type AugmentKind, type Augmentation } from "./augment.ts";
import type { AssetKit } from "./assets.ts";
import { drawAugmentation } from "./talks.ts";
import { type CorpusRunSummary, type SplitSegment, type TalkTimes, joinWithPauses, writeSplitTexts, writeTalks } from "./synth.ts";
import type { Tools } from "./tools.ts";
import { translateAll } from "./translate.ts";

export const realTrainSplit = "train";
export const realDevSplit = "dev-real";
/** The held-out speakers' clips whose sentence no train clip says (withUnseenSplit). */
export const realUnseenSplit = "dev-real-unseen";

export interface SpeechClip {
  /** The folder the clip's manifest is in (one source corpus), e.g. speechocean762. */
  corpus: string;
  file: string;
  seconds: number;
  speaker: string;
  split: string;
  en: string;
  tgt: string;
}

const MANIFEST = "manifest.tsv";
const MANIFEST_HEADER = "file\tseconds\tspeaker\ttranscript";
const TSV_HEADER = "corpus\tfile\tseconds\tspeaker\tsplit\ten\ttgt";

/**
 * Transcripts as the model's targets are written (sentence case, final punctuation): some sources give
 * read prompts in capitals ("WE CALL IT BEAR"). A transcript that is mostly single letters
 * ("S A F F R O N") is spelling and stays in capitals; white space is collapsed. Empty after cleaning: no transcript.
 */
export function cleanTranscript(text: string): string {
  let t = text.replace(/\s+/g, " ").trim();
  if (t === "") return "";
  const capitals = /[A-Za-z]/.test(t) && t === t.toUpperCase();
  if (capitals && !isSpelling(t)) t = t.toLowerCase().replace(/\bi\b/g, "I").replace(/\bi'(m|ll|ve|d)\b/g, "I'$1");
  t = t.charAt(0).toUpperCase() + t.slice(1);
  if (!/[.!?]["')\]]?$/.test(t)) t = t.replace(/[,;:]$/, "") + ".";
  return t;
}

/** Mostly single letters ("S A F F R O N R O B L E S"): a spelled name, the same in every language. */
export function isSpelling(text: string): boolean {
  const words = text.split(" ");
  const letters = words.filter((w) => /^[A-Z][.,]?$/.test(w)).length;
  return letters >= 3 && letters >= 0.6 * words.length;
}

/** Every `ROOT/<corpus>/manifest.tsv` with the clip columns; other folders (noise, impulse responses) are passed over. */
export function readSpeechManifests(root: string): Omit<SpeechClip, "split" | "tgt">[] {
  if (!existsSync(root)) throw new InputError(root, "does not exist; give --from the folder holding the corpora (each with a manifest.tsv)");
  const clips: Omit<SpeechClip, "split" | "tgt">[] = [];
  for (const corpus of readdirSync(root).sort()) {
    const path = join(root, corpus, MANIFEST);
    if (!existsSync(path)) continue;
    const lines = readFileSync(path, "utf8").split("\n");
    if (lines[0]?.trim() !== MANIFEST_HEADER) continue;
    lines.slice(1).forEach((line, i) => {
      if (line.trim() === "") return;
      const [file, seconds, speaker, transcript] = line.split("\t");
      const where = `${path}:${i + 2}`;
      if (file === undefined || seconds === undefined || speaker === undefined || transcript === undefined) {
        throw new InputError(where, `needs 4 tab-separated columns (${MANIFEST_HEADER.replace(/\t/g, ", ")})`);
      }
      const s = Number(seconds);
      if (!Number.isFinite(s) || s <= 0) throw new InputError(where, `seconds must be a positive number, got '${seconds}'`);
      const en = cleanTranscript(transcript);
      if (en === "") return;
      clips.push({ corpus, file, seconds: s, speaker, en });
    });
  }
  if (clips.length === 0) throw new InputError(root, `holds no folder with a ${MANIFEST} (${MANIFEST_HEADER.replace(/\t/g, ", ")})`);
  return clips;
}

/**
 * Holds out whole speakers for validation: in each corpus of at least `minSpeakers` speakers, a seeded
 * `fraction` of them (at least one). Corpora of one or a few speakers train only, so every validation
 * voice is unheard in training (their prompts may be: read-speech corpora repeat prompts).
 */
export function heldOutSpeakers(clips: readonly { corpus: string; speaker: string }[], seed: number, fraction = 0.05, minSpeakers = 5): Set<string> {
  const byCorpus = new Map<string, Set<string>>();
  for (const c of clips) {
    if (!byCorpus.has(c.corpus)) byCorpus.set(c.corpus, new Set());
    byCorpus.get(c.corpus)!.add(c.speaker);
  }
  const out = new Set<string>();
  for (const [corpus, speakers] of [...byCorpus].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (speakers.size < minSpeakers) continue;
    const order = Rng.derive(seed, "dev-speakers", corpus).shuffle([...speakers].sort());
    for (const s of order.slice(0, Math.max(1, Math.round(speakers.size * fraction)))) out.add(speakerKey(corpus, s));
  }
  return out;
}

function speakerKey(corpus: string, speaker: string): string {
  return `${corpus}/${speaker}`;
}

/** The text side: manifests → cleaned, split and translated clips (apertium runs here). */
export async function speechText(root: string, opts: { seed: number; jobs: number; pair: string; onBatch?: (done: number, total: number) => void }): Promise<SpeechClip[]> {
  const clips = readSpeechManifests(root);
  const dev = heldOutSpeakers(clips, opts.seed);
  // Each distinct transcript is translated once: read-speech corpora repeat their prompts.
  const distinct = [...new Set(clips.map((c) => c.en).filter((t) => !isSpelling(t)))];
  const mode = opts.pair === "en-es" ? "eng-spa" : undefined;
  if (!mode) throw new InputError(opts.pair, "is not a pair apertium translates here (en-es)");
  const translated = await translateAll(distinct, { jobs: opts.jobs, pair: mode, onBatch: (d) => opts.onBatch?.(d, distinct.length) });
  const tgt = new Map(distinct.map((en, i) => [en, translated[i]!]));
  return clips.map((c) => ({ ...c, split: dev.has(speakerKey(c.corpus, c.speaker)) ? realDevSplit : realTrainSplit, tgt: tgt.get(c.en) ?? c.en }));
}

/**
 * `clips` and, again as split `dev-real-unseen`, the held-out speakers' clips whose transcript no train clip
 * has. dev-real's speakers are new, but most of what they read is not: speechocean762's speakers share their
 * prompts and FSDD's say the ten digits, so a model ranked by dev-real is ranked partly by sentences it has
 * learnt (BLEU 60-66 there while a new real voice stays at 5: models/default/MODEL_CARD.md). The appended
 * clips make their own talks after all the others, so the names of the other talks do not change.
 */
export function withUnseenSplit(clips: readonly SpeechClip[]): SpeechClip[] {
  const said = new Set(clips.filter((c) => c.split === realTrainSplit).map((c) => c.en));
  return [...clips, ...clips.filter((c) => c.split === realDevSplit && !said.has(c.en)).map((c) => ({ ...c, split: realUnseenSplit }))];
}

export function writeSpeechTsv(path: string, clips: readonly SpeechClip[]): void {
  const clean = (s: string) => s.replace(/[\t\n\r]/g, " ");
  const rows = clips.map((c) => [c.corpus, c.file, c.seconds, c.speaker, c.split, clean(c.en), clean(c.tgt)].join("\t"));
  writeFileAtomic(path, [TSV_HEADER, ...rows].join("\n") + "\n");
}

export function readSpeechTsv(path: string): SpeechClip[] {
  if (!existsSync(path)) throw new InputError(path, "does not exist; make it with `nast corpus speech --from DIR --text-only --tsv FILE`");
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines[0] !== TSV_HEADER) throw new InputError(`${path}:1`, `is not a speech TSV (header must be: ${TSV_HEADER.replace(/\t/g, ", ")})`);
  const out: SpeechClip[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line === "") return;
    const f = line.split("\t");
    const seconds = Number(f[2]);
    if (f.length !== 7 || !Number.isFinite(seconds) || f.some((x) => x === "")) throw new InputError(`${path}:${i + 2}`, "needs 7 non-empty tab-separated columns");
    out.push({ corpus: f[0]!, file: f[1]!, seconds, speaker: f[3]!, split: f[4]!, en: f[5]!, tgt: f[6]! });
  });
  return out;
}

export interface SpeechTalk {
  split: string;
  /** File stem of the talk's WAV: real_<n>_c<copy>. */
  name: string;
  speaker: string;
  /** 0: as recorded; 1..copies-1: augmented (train only). */
  copy: number;
  clips: SpeechClip[];
  /** Silence before each clip, seconds (the recordings carry their own lead-in and tail). */
  pauses: number[];
}

/**
 * Talks of `minClips`..`maxClips` consecutive clips of one speaker (one source corpus), for each split;
 * train talks repeated `copies` times, or `copiesOf.get(source)` times for a source listed there (so that
 * the few native adult readers weigh more than their minutes against the thousands of learners' prompts).
 * Deterministic for a seed; the talks themselves do not depend on the copy counts.
 */
export function planSpeechTalks(
  clips: readonly SpeechClip[],
  opts: { seed: number; copies: number; copiesOf?: ReadonlyMap<string, number>; minClips?: number; maxClips?: number },
): SpeechTalk[] {
  const minClips = opts.minClips ?? 4;
  const maxClips = opts.maxClips ?? 12;
  const groups = new Map<string, SpeechClip[]>();
  for (const c of clips) {
    const key = `${c.split}\t${speakerKey(c.corpus, c.speaker)}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  const talks: SpeechTalk[] = [];
  let n = 0;
  for (const [key, list] of groups) {
    const [split, speaker] = key.split("\t") as [string, string];
    const rng = Rng.derive(opts.seed, "speech-talks", key);
    for (let i = 0; i < list.length; ) {
      const size = rng.int(minClips, maxClips);
      const part = list.slice(i, i + size);
      const pauses = part.map(() => Math.round(rng.uniform(0.1, 0.5) * 1000) / 1000);
      n++;
      const copies = split === realTrainSplit ? (opts.copiesOf?.get(part[0]!.corpus) ?? opts.copies) : 1;
      for (let copy = 0; copy < copies; copy++) talks.push({ split, name: `real_${n}_c${copy}`, speaker, copy, clips: part, pauses });
      i += size;
    }
  }
  return talks;
}

/** Decodes one Opus clip to 16 kHz mono float samples with opusdec (deterministic: no dither for float output). */
export async function decodeOpus(path: string, tools: Pick<Tools, "env" | "opusdec">): Promise<Float32Array> {
  const bin = tools.opusdec ?? "opusdec";
  const bytes = await runProcessBytes(bin, ["--quiet", "--rate", String(sampleRate), "--float", "--no-dither", path, "-"], "", tools.env);
  if (bytes.length < 4) throw new Error(`${path}: opusdec gave no audio; is it an Opus file?`);
  const out = new Float32Array(bytes.length >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** How the copies after the first are augmented: the kinds switched on and the asset kit, if any. */
export interface SpeechAugment {
  kinds: readonly AugmentKind[];
  kit: AssetKit | null;
  seed: number;
}

/** The augmentation plan of a talk copy (none for copy 0): a pure function of (seed, talk name). */
export function speechPlan(talk: SpeechTalk, aug: SpeechAugment): Augmentation | null {
  if (talk.copy === 0 || aug.kinds.length === 0) return null;
  return drawAugmentation(Rng.derive(aug.seed, "speech-augment", talk.name), aug.kinds, aug.kit?.catalog);
}

export interface SpeechAudioOptions {
  /** The folder holding the corpora (the clips' paths are <root>/<corpus>/<file>). */
  root: string;
  outDir: string;
  pair: string;
  jobs: number;
  tools: Tools;
  augment?: SpeechAugment;
  logger?: JsonLogger;
  progress?: boolean;
  /**
   * Make only talks k, k+n, ... and no text files: one Node process's own work (augmentation) limits the
   * speed on many cores, so n processes share one corpus; a last run without it writes the text files.
   */
  shard?: { index: number; count: number };
}

/**
 * Writes every talk's WAV (atomically; a talk whose WAV and times exist is kept, so a killed run goes on
 * where it stopped) and, when none failed, each split's yaml and texts.
 */
export async function writeSpeechCorpus(talks: readonly SpeechTalk[], opts: SpeechAudioOptions): Promise<CorpusRunSummary> {
  const pairDir = join(opts.outDir, opts.pair);
  const state = join(pairDir, ".speech");
  const splits = [...new Set(talks.map((t) => t.split))];
  for (const s of splits) {
    mkdirSync(join(pairDir, "data", s, "wav"), { recursive: true });
    mkdirSync(join(pairDir, "data", s, "txt"), { recursive: true });
    mkdirSync(join(state, s), { recursive: true });
  }
  const wavPath = (t: SpeechTalk) => join(pairDir, "data", t.split, "wav", `${t.name}.wav`);
  const timesPath = (t: SpeechTalk) => join(state, t.split, `${t.name}.json`);
  const mine = opts.shard ? talks.filter((_, i) => i % opts.shard!.count === opts.shard!.index) : talks;
  const todo = mine.filter((t) => !(existsSync(wavPath(t)) && existsSync(timesPath(t))));
  const summary: CorpusRunSummary = { talks: mine.length, made: 0, resumed: mine.length - todo.length, failed: [], seconds: {}, segments: {} };
  const progress = new Progress({ total: todo.length, label: "speech talks", ...(opts.progress !== undefined ? { enabled: opts.progress } : {}) });
  await writeTalks(todo, summary, {
    jobs: opts.jobs,
    render: (talk) => renderSpeechTalk(talk, opts),
    wavPath,
    timesPath,
    name: (talk) => talk.name,
    logged: (talk) => ({ speaker: talk.speaker, copy: talk.copy }),
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    done: () => progress.tick(1),
  });
  progress.finish();
  if (summary.failed.length > 0 || opts.shard) return summary;
  for (const split of splits) {
    const segments: SplitSegment[] = [];
    let seconds = 0;
    for (const talk of talks.filter((t) => t.split === split)) {
      const times = JSON.parse(readFileSync(timesPath(talk), "utf8")) as TalkTimes;
      seconds += times.samples / sampleRate;
      talk.clips.forEach((clip, i) => {
        const t = times.segments[i]!;
        segments.push({ duration: t.duration, offset: t.offset, speaker: talk.speaker.replace(/[^\w.\/-]/g, "_"), wav: `${talk.name}.wav`, src: clip.en, tgt: clip.tgt });
      });
    }
    writeSplitTexts(pairDir, split, opts.pair, segments);
    summary.seconds[split] = seconds;
    summary.segments[split] = segments.length;
  }
  return summary;
}

async function renderSpeechTalk(talk: SpeechTalk, opts: SpeechAudioOptions): Promise<{ wav: Buffer; times: TalkTimes }> {
  const plan = opts.augment ? speechPlan(talk, opts.augment) : null;
  const rng = Rng.derive(opts.augment?.seed ?? 0, "speech-noise", talk.name);
  const audio: Float32Array[] = [];
  for (const clip of talk.clips) {
    let a = await decodeOpus(join(opts.root, clip.corpus, clip.file), opts.tools);
    // Speed, tempo and pitch change durations: applied to each clip, so the segment times follow.
    if (plan && voiceEffects(plan).length > 0) a = await applyAugmentation(a, { speed: plan.speed, ...(plan.tempo !== undefined ? { tempo: plan.tempo } : {}), ...(plan.pitch !== undefined ? { pitch: plan.pitch } : {}) }, null, opts.tools, rng);
    audio.push(a);
  }
  const pauses = talk.pauses.map((p) => Math.round(p * sampleRate));
  const tail = Math.round(0.3 * sampleRate);
  const joined = joinWithPauses(audio, pauses, tail);
  const { total, segments, speech } = joined;
  let x = joined.x;
  // The rest of the plan (room, added sources, level, channel) keeps the timing.
  if (plan) x = await applyAugmentation(x, plan, opts.augment!.kit, opts.tools, rng, { voice: false, speech });
  limitPeak(x);
  return { wav: wavBytes(x), times: { samples: total, segments } };
}
