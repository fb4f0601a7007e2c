// `nast corpus asterisk`: a real-speech test set from Debian's Asterisk prompt packages, so that models
// trained on synthetic speech can be measured on a human voice none of them heard. Debian ships the
// Asterisk PBX's studio prompts, ~570 recordings of one professional female voice:
//   asterisk-core-sounds-en-g722  the English recordings, 16 kHz ITU-T G.722 (decoded by ffmpeg's g722)
//   asterisk-core-sounds-en       their transcripts, core-sounds-en.txt.gz ("name: text" per line)
//   asterisk-core-sounds-es       the transcripts of the Spanish recordings of the same prompts
// Two splits in MuST-C layout, DIR/<pair>/data/<split>/{wav,txt}:
//   tst-AST        every English prompt with a spoken transcript; its Spanish made by apertium exactly as
//                  the synthetic corpus makes its targets (the training sentences' normalisation, then
//                  translate.ts's translateAll)
//   tst-AST-HUMAN  the prompts that also have a Spanish transcript (matched by prompt name): a human reference
// Prompts are joined into talks (8-20 each, seeded pauses of 0.3-1.2 s), so that `nast eval` exercises the
// segmenter too; one speaker for the whole set. Everything is rebuilt in memory from the packages on each
// run (25 minutes of audio, seconds to decode) and written atomically, so a rerun is cheap and
// byte-identical for a seed: there is nothing to resume.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { PCM16_MONO, wavHeader } from "../audio/wav-header.ts";
import { intFlag, parseFlags, stringFlags } from "../cli/args.ts";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { InputError, UsageError, errorMessage } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { apertiumModes } from "./corpus-text.ts";
import { runPool, runProcess, runProcessBytes } from "./process.ts";
import { Rng } from "./rng.ts";
import { cleanSentence, normalizeText } from "./sentences.ts";
import { type SplitSegment, writeSplitTexts } from "./synth.ts";
import { translateAll } from "./translate.ts";

export const astSplit = "tst-AST";
export const astHumanSplit = "tst-AST-HUMAN";
/** One voice ("Allison", the en_US_f_Allison folder of the packages) speaks every prompt. */
export const astSpeaker = "spk.asterisk";
const sampleRate = 16000;

export const asteriskPackages = {
  audio: "asterisk-core-sounds-en-g722",
  en: "asterisk-core-sounds-en",
  es: "asterisk-core-sounds-es",
} as const;
export type AsteriskPackages = { [K in keyof typeof asteriskPackages]: string };

// ---- transcripts ------------------------------------------------------------------------------------

export interface TranscriptEntry {
  /** Prompt name = the recording's path under the sound folder without extension, e.g. digits/1, vm-intro. */
  name: string;
  raw: string;
  /** 1-based line in the transcript file. */
  line: number;
}

export interface Transcript {
  entries: Map<string, TranscriptEntry>;
  /** Later lines for a name already seen (core-sounds-es.txt has "digits/0: cero" and then "digits/0: diez"): the first one counts. */
  duplicates: TranscriptEntry[];
  /** Lines that are neither blank, a ";" comment nor "name: text". */
  malformed: number[];
}

/** core-sounds-<lang>.txt: "; comment" lines, blank lines, and "name: text" (text may be empty). */
export function parseTranscript(text: string): Transcript {
  const t: Transcript = { entries: new Map(), duplicates: [], malformed: [] };
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith(";")) return;
    const m = /^([A-Za-z0-9_][A-Za-z0-9_./-]*):(?:\s(.*))?$/.exec(line);
    if (!m) {
      t.malformed.push(i + 1);
      return;
    }
    const entry = { name: m[1]!, raw: m[2] ?? "", line: i + 1 };
    if (t.entries.has(entry.name)) t.duplicates.push(entry);
    else t.entries.set(entry.name, entry);
  });
  return t;
}

export type SkipReason = "empty" | "annotation only";

/**
 * The words a listener hears, from a transcript's text (the same rules for both languages), or why the
 * prompt has none. Rules, from what the files hold:
 *  - a text that is one annotation, in [..], <..> or (..), is not speech: "[this is a simple beep tone]",
 *    "<beep ascending>", "(10 seconds of silence)", "(beep)"; nor is an empty text (es "dir-welcome:");
 *  - (..) inside a text is an editor's note: "IAX (note: does not say "2")", "... pound key. (simple tone
 *    sound plays)": removed; so is <..>;
 *  - [..] without letters names the symbol a spoken word stands for ("at [@]", "space [ ]"): removed;
 *    [..] with letters inside a longer text is a spoken word (es "Sus saludos [temporales] estan ..."):
 *    only the brackets go;
 *  - ellipses mark where another prompt is played ("...has joined the conference.", "Press ...", "...
 *    for ..."): removed, with the commas or spaces they leave;
 *  - typographic punctuation is made ASCII and white space collapsed (normalizeText, as for the
 *    synthetic corpus's sentences). Letters, digits, case and the rest are kept as written.
 */
export function cleanPromptText(raw: string): { text: string } | { skip: SkipReason } {
  const s = raw.trim();
  if (s === "") return { skip: "empty" };
  if (/^(\[[^\]]*\]|<[^>]*>|\([^)]*\))$/.test(s)) return { skip: "annotation only" };
  const t = normalizeText(
    s
      .replace(/\([^()]*\)/g, " ")
      .replace(/<[^<>]*>/g, " ")
      .replace(/\[([^\]]*)\]/g, (_, inner: string) => (/\p{L}/u.test(inner) ? inner : " "))
      .replace(/\.{2,}|\u2026/g, " "),
  )
    .replace(/\s+([,;:.!?])/g, "$1")
    .replace(/^[\s,;:]+|[\s,;:]+$/g, "");
  if (!/[\p{L}\p{N}]/u.test(t)) return { skip: "annotation only" };
  return { text: t };
}

/** No length or word-count limit: a prompt is kept whatever its length (cleanSentence's filters are for running text). */
const anyLength = { minWords: 1, maxWords: Number.MAX_SAFE_INTEGER, maxChars: Number.MAX_SAFE_INTEGER };

/**
 * An English prompt as the synthetic corpus writes its sentences before apertium translates them
 * (sentences.ts cleanSentence: ASCII punctuation, " - " as a comma, a capital first letter, a final
 * period when none), with the lone pronoun "i" capitalised ("please wait while i connect your call").
 * cleanSentence refuses text it cannot vouch for in running prose (all capitals "DAHDI", "H.323",
 * "3D audio enabled"); these prompts are real, so they get only its capital letter and final period.
 */
export function englishSentence(text: string): string {
  const s = text.replace(/\bi\b/g, "I");
  const clean = cleanSentence(s, anyLength);
  if (clean !== undefined) return clean;
  const t = normalizeText(s).replace(/^([^\p{L}\p{N}]*)(\p{Ll})/u, (_, pre: string, c: string) => pre + c.toUpperCase());
  return /[.!?]["']?$/.test(t) ? t : `${t.replace(/[,;:]+$/, "")}.`;
}

/**
 * A human Spanish transcript in the shape every target of the corpus has (a capital first letter, a final
 * period when none): the files end some prompts with a period and not others ("Gracias", "La conferencia
 * ha sido extendida."), which the speech cannot tell; the words are the translator's, untouched.
 */
export function spanishSentence(text: string): string {
  const t = text.replace(/^([^\p{L}\p{N}]*)(\p{Ll})/u, (_, pre: string, c: string) => pre + c.toUpperCase());
  return /[.!?]["')]?$/.test(t) ? t : `${t.replace(/[,;:]+$/, "")}.`;
}

// ---- the installed packages -------------------------------------------------------------------------

export interface AsteriskSources {
  /** Prompt name → recording (.g722) path, names in code-point order. */
  recordings: Map<string, string>;
  enTranscript: string;
  esTranscript: string;
}

const installHint = (pkgs: readonly string[]) => `apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;

/** The files of each package, by `dpkg -L`; one error naming every package that is missing. */
export async function locateSources(packages: AsteriskPackages = asteriskPackages): Promise<AsteriskSources> {
  const listings = new Map<string, string[]>();
  const missing: string[] = [];
  for (const pkg of Object.values(packages)) {
    try {
      listings.set(pkg, (await runProcess("dpkg", ["-L", pkg], "")).split("\n").filter(Boolean));
    } catch (err) {
      if (/dpkg not found/.test(errorMessage(err))) throw new Error(`dpkg not found: this command reads the Debian packages ${Object.values(packages).join(", ")}`);
      missing.push(pkg);
    }
  }
  if (missing.length > 0) throw new Error(`Debian package${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not installed: ${installHint(missing)}`);
  // Docker images often exclude /usr/share/doc from packages (dpkg path-exclude): the listing names the
  // transcript that is not on disk.
  const onDisk = (pkg: string, what: string, path: string | undefined): string => {
    if (path === undefined) throw new Error(`${pkg} holds no ${what}; reinstall it: apt-get install --reinstall ${pkg}`);
    if (!existsSync(path)) {
      throw new Error(`${pkg} lists ${path} but it is not on disk (a dpkg path-exclude for /usr/share/doc?); reinstall it without the exclusion: apt-get install --reinstall ${pkg}`);
    }
    return path;
  };
  const transcript = (pkg: string, lang: string) =>
    onDisk(pkg, `core-sounds-${lang}.txt.gz`, listings.get(pkg)!.find((p) => p.endsWith(`/core-sounds-${lang}.txt.gz`) || p.endsWith(`/core-sounds-${lang}.txt`)));
  const g722 = listings.get(packages.audio)!.filter((p) => p.endsWith(".g722")).sort();
  if (g722.length === 0) onDisk(packages.audio, "G.722 recordings", undefined);
  // The sound folder (…/sounds/en_US_f_Allison) is the deepest folder holding every recording.
  let root = g722[0]!.slice(0, g722[0]!.lastIndexOf("/"));
  for (const p of g722) while (!p.startsWith(`${root}/`)) root = root.slice(0, root.lastIndexOf("/"));
  const recordings = new Map<string, string>();
  for (const p of g722) recordings.set(p.slice(root.length + 1, -".g722".length), onDisk(packages.audio, "recordings", p));
  return { recordings, enTranscript: transcript(packages.en, "en"), esTranscript: transcript(packages.es, "es") };
}

/** A transcript file, gzipped or not, as strict UTF-8. */
export function readTranscriptFile(path: string): Transcript {
  let bytes: Buffer = readFileSync(path);
  if (path.endsWith(".gz")) bytes = gunzipSync(bytes);
  try {
    return parseTranscript(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new InputError(path, "is not valid UTF-8");
  }
}

const ffmpegBin = () => process.env.NAST_FFMPEG ?? "ffmpeg";

/** One recording as ffmpeg's G.722 decoder gives it (16 kHz, 16-bit, mono: ITU-T G.722's own format). */
export async function decodeG722(path: string): Promise<Int16Array> {
  const bytes = await runProcessBytes(ffmpegBin(), ["-nostdin", "-hide_banner", "-loglevel", "error", "-f", "g722", "-i", `file:${path}`, "-ac", "1", "-ar", String(sampleRate), "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"], "");
  if (bytes.length < 2) throw new Error(`${path}: decoded to no audio`);
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(2 * i);
  return out;
}

// ---- talks ------------------------------------------------------------------------------------------

export interface AstTalk {
  /** WAV stem, e.g. ast_3. */
  name: string;
  prompts: string[];
  /** Silence before each prompt, seconds (as drawn; made exact in samples when rendered). */
  pauses: number[];
  /** Silence after the last prompt, seconds. */
  tail: number;
}

export const talkPrefix: Record<string, string> = { [astSplit]: "ast", [astHumanSplit]: "asthuman" };

/**
 * The prompts of a split in seeded random order, cut into talks of 8-20 prompts (a last remainder under
 * 8 joins the talk before it); pauses of 0.3-1.2 s before every prompt and after the last. Depends only
 * on the seed, the split and the set of names.
 */
export function planAsteriskTalks(names: readonly string[], seed: number, split: string): AstTalk[] {
  const order = Rng.derive(seed, "asterisk", split, "order").shuffle([...names].sort(codePoint));
  const sizes = Rng.derive(seed, "asterisk", split, "sizes");
  const talks: AstTalk[] = [];
  for (let i = 0; i < order.length; ) {
    let size = sizes.int(8, 20);
    if (order.length - i - size < 8) size = order.length - i;
    const rng = Rng.derive(seed, "asterisk", split, "talk", talks.length + 1);
    const prompts = order.slice(i, i + size);
    talks.push({
      name: `${talkPrefix[split] ?? "ast"}_${talks.length + 1}`,
      prompts,
      pauses: prompts.map(() => rng.uniform(0.3, 1.2)),
      tail: rng.uniform(0.3, 1.2),
    });
    i += size;
  }
  return talks;
}

const codePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether `n` samples survive the yaml's 6 decimals: readMustcSplit (like fairseq) reads a time back as
 * trunc(float(text) * 16000), which for a quarter of all sample counts gives n - 1 (0.000063 s is not
 * 1 sample exactly, and 0.01 * 16000 = 159.99999999999997).
 */
export function exactInYaml(n: number): boolean {
  return Math.trunc(Number((n / sampleRate).toFixed(6)) * sampleRate) === n;
}

const nextExact = (n: number) => {
  while (!exactInYaml(n)) n++;
  return n;
};

interface RenderedTalk {
  wav: Buffer;
  /** Per prompt: first sample and sample count (both exact in the yaml). */
  segments: { start: number; length: number }[];
  samples: number;
}

/**
 * A talk's WAV: each prompt as recorded, padded with a few zero samples so that its length is exact in
 * the yaml, after a pause lengthened by the few samples that make its offset exact.
 */
export function renderTalk(talk: AstTalk, audio: ReadonlyMap<string, Int16Array>): RenderedTalk {
  const segments: RenderedTalk["segments"] = [];
  let pos = 0;
  talk.prompts.forEach((p, i) => {
    pos = nextExact(pos + Math.round(talk.pauses[i]! * sampleRate));
    const length = nextExact(audio.get(p)!.length);
    segments.push({ start: pos, length });
    pos += length;
  });
  const samples = pos + Math.round(talk.tail * sampleRate);
  const wav = Buffer.alloc(44 + 2 * samples);
  wav.set(wavHeader(PCM16_MONO(sampleRate), 2 * samples), 0);
  talk.prompts.forEach((p, i) => {
    const a = audio.get(p)!;
    const at = 44 + 2 * segments[i]!.start;
    for (let k = 0; k < a.length; k++) wav.writeInt16LE(a[k]!, at + 2 * k);
  });
  return { wav, segments, samples };
}

// ---- the corpus -------------------------------------------------------------------------------------

export interface AsteriskOptions {
  outDir: string;
  pair: string;
  seed: number;
  jobs: number;
  /** Only the first N prompts (by name) that have an English transcript: small runs and tests. */
  maxPrompts?: number;
  logger?: JsonLogger;
  progress?: boolean;
  /** Instead of the installed packages (tests). */
  sources?: AsteriskSources;
}

export interface AsteriskSplitSummary {
  prompts: number;
  talks: number;
  seconds: number;
  /** Why prompts were left out: reason → count. */
  skipped: Record<string, number>;
}

export interface AsteriskSummary {
  recordings: number;
  transcripts: { en: number; es: number };
  /** Transcript lines of a name already seen (the first one is used). */
  duplicates: string[];
  /** English transcripts of prompts that have no recording. */
  unrecorded: string[];
  failed: { prompt: string; error: string }[];
  splits: Record<string, AsteriskSplitSummary>;
  wallSeconds: number;
}

export interface PromptRow {
  name: string;
  en?: string;
  esHuman?: string;
  /** Why the prompt is not in tst-AST / tst-AST-HUMAN. */
  enSkip?: string;
  esSkip?: string;
}

/** The prompts of the packages and what each split does with them (no audio yet). */
export function selectPrompts(sources: AsteriskSources, en: Transcript, es: Transcript, maxPrompts?: number): PromptRow[] {
  const rows: PromptRow[] = [];
  let usable = 0;
  for (const name of [...sources.recordings.keys()].sort(codePoint)) {
    if (maxPrompts !== undefined && usable >= maxPrompts) break;
    const row: PromptRow = { name };
    rows.push(row);
    const e = en.entries.get(name);
    const ce = e ? cleanPromptText(e.raw) : { skip: "no English transcript" };
    if ("skip" in ce) {
      row.enSkip = ce.skip === "no English transcript" ? ce.skip : `English ${ce.skip}`;
      continue;
    }
    usable++;
    row.en = englishSentence(ce.text);
    const s = es.entries.get(name);
    const cs = s ? cleanPromptText(s.raw) : { skip: "no Spanish transcript" };
    if ("skip" in cs) row.esSkip = cs.skip === "no Spanish transcript" ? cs.skip : `Spanish ${cs.skip}`;
    else row.esHuman = spanishSentence(cs.text);
  }
  return rows;
}

export async function buildAsteriskCorpus(opts: AsteriskOptions): Promise<AsteriskSummary> {
  const start = performance.now();
  const mode = apertiumModes[opts.pair];
  if (opts.pair !== "en-es" || mode === undefined) throw new Error(`asterisk corpus: pair ${opts.pair}: only en-es (the packages' Spanish transcripts are the human side)`);
  await checkFfmpeg();
  const sources = opts.sources ?? (await locateSources());
  const en = readTranscriptFile(sources.enTranscript);
  const es = readTranscriptFile(sources.esTranscript);
  const rows = selectPrompts(sources, en, es, opts.maxPrompts);
  const summary: AsteriskSummary = {
    recordings: sources.recordings.size,
    transcripts: { en: en.entries.size, es: es.entries.size },
    duplicates: [...en.duplicates.map((d) => `en ${d.name} (line ${d.line})`), ...es.duplicates.map((d) => `es ${d.name} (line ${d.line})`)],
    unrecorded: [...en.entries.keys()].filter((n) => !sources.recordings.has(n)).sort(codePoint),
    failed: [],
    splits: {},
    wallSeconds: 0,
  };

  // Decode every prompt that a split uses; a recording that fails is reported and left out.
  const wanted = rows.filter((r) => r.en !== undefined);
  const audio = new Map<string, Int16Array>();
  const bar = new Progress({ total: wanted.length, label: "decode", enabled: opts.progress });
  await runPool(wanted, opts.jobs, async (row) => {
    try {
      audio.set(row.name, await decodeG722(sources.recordings.get(row.name)!));
    } catch (err) {
      summary.failed.push({ prompt: row.name, error: errorMessage(err) });
      opts.logger?.log("prompt_failed", { prompt: row.name, error: errorMessage(err) });
    }
    bar.tick();
  });
  bar.finish();
  summary.failed.sort((a, b) => codePoint(a.prompt, b.prompt));
  for (const f of summary.failed) {
    const row = rows.find((r) => r.name === f.prompt)!;
    row.enSkip = "decode failed";
    delete row.en;
  }
  const kept = rows.filter((r) => r.en !== undefined);
  const translations = await translateAll(kept.map((r) => r.en!), { jobs: opts.jobs, pair: mode });
  const apertium = new Map(kept.map((r, i) => [r.name, translations[i]!]));

  const pairDir = join(opts.outDir, opts.pair);
  const splits = [
    { split: astSplit, rows: kept, tgt: (r: PromptRow) => apertium.get(r.name)!, skip: (r: PromptRow) => r.enSkip },
    { split: astHumanSplit, rows: kept.filter((r) => r.esHuman !== undefined), tgt: (r: PromptRow) => r.esHuman!, skip: (r: PromptRow) => r.enSkip ?? r.esSkip },
  ];
  const talkOf = new Map<string, string>();
  for (const s of splits) {
    const skipped: Record<string, number> = {};
    for (const r of rows) {
      const why = s.skip(r);
      if (why !== undefined) skipped[why] = (skipped[why] ?? 0) + 1;
    }
    const byName = new Map(s.rows.map((r) => [r.name, r]));
    const talks = planAsteriskTalks([...byName.keys()], opts.seed, s.split);
    const seconds = writeSplit(pairDir, s.split, talks, audio, (name) => [byName.get(name)!.en!, s.tgt(byName.get(name)!)]);
    for (const t of talks) for (const p of t.prompts) talkOf.set(`${s.split}/${p}`, t.name);
    summary.splits[s.split] = { prompts: s.rows.length, talks: talks.length, seconds, skipped };
  }
  writePromptTable(pairDir, rows, apertium, talkOf);
  summary.wallSeconds = (performance.now() - start) / 1000;
  return summary;
}

async function checkFfmpeg(): Promise<void> {
  try {
    await runProcess(ffmpegBin(), ["-hide_banner", "-version"], "");
  } catch {
    throw new Error(`${ffmpegBin()} not found or not working: apt-get install -y --no-install-recommends ffmpeg`);
  }
}

/**
 * One split, so that a killed run never leaves a split that looks complete: the old text files go first,
 * then every WAV is written (atomically) and WAVs of other plans are removed, then the texts, the yaml last.
 */
function writeSplit(
  pairDir: string,
  split: string,
  talks: readonly AstTalk[],
  audio: ReadonlyMap<string, Int16Array>,
  texts: (prompt: string) => [string, string],
): number {
  const dir = join(pairDir, "data", split);
  const wavDir = join(dir, "wav");
  const txtDir = join(dir, "txt");
  mkdirSync(wavDir, { recursive: true });
  mkdirSync(txtDir, { recursive: true });
  const yamlPath = join(txtDir, `${split}.yaml`);
  rmSync(yamlPath, { force: true });
  const segments: SplitSegment[] = [];
  let samples = 0;
  const names = new Set<string>();
  for (const talk of talks) {
    const r = renderTalk(talk, audio);
    writeFileAtomic(join(wavDir, `${talk.name}.wav`), r.wav);
    names.add(`${talk.name}.wav`);
    samples += r.samples;
    talk.prompts.forEach((p, i) => {
      const seg = r.segments[i]!;
      const [e, s] = texts(p);
      segments.push({ duration: seg.length / sampleRate, offset: seg.start / sampleRate, speaker: astSpeaker, wav: `${talk.name}.wav`, src: e, tgt: s });
    });
  }
  // WAVs of a run with another seed or --max-prompts, and temporary files of a killed run.
  for (const f of readdirSync(wavDir)) if (!names.has(f)) rmSync(join(wavDir, f), { force: true });
  writeSplitTexts(pairDir, split, "en-es", segments);
  return samples / sampleRate;
}

/** asterisk-prompts.tsv: every prompt, its texts, and where it went or why not. */
function writePromptTable(pairDir: string, rows: readonly PromptRow[], apertium: ReadonlyMap<string, string>, talkOf: ReadonlyMap<string, string>): void {
  const lines = [`prompt\t${astSplit}\t${astHumanSplit}\ten\tes_apertium\tes_human`];
  for (const r of rows) {
    const where = (split: string, why: string | undefined) => talkOf.get(`${split}/${r.name}`) ?? `skipped: ${why}`;
    lines.push([r.name, where(astSplit, r.enSkip), where(astHumanSplit, r.enSkip ?? r.esSkip), r.en ?? "", apertium.get(r.name) ?? "", r.esHuman ?? ""].join("\t"));
  }
  writeFileAtomic(join(pairDir, "asterisk-prompts.tsv"), lines.join("\n") + "\n");
}

// ---- command line -----------------------------------------------------------------------------------

export const asteriskUsage = `usage: nast corpus asterisk -o DIR [options]

A real-speech test set from Debian's Asterisk prompts (one professional voice, 16 kHz G.722), in MuST-C
layout: DIR/<pair>/data/{${astSplit},${astHumanSplit}}/{wav,txt}. ${astSplit}: every English prompt with
a spoken transcript, Spanish by apertium as for the synthetic corpus; ${astHumanSplit}: the prompts that
also have a Spanish transcript, which is the reference. Prompts are joined into talks of 8-20 with pauses
of 0.3-1.2 s. DIR/<pair>/asterisk-prompts.tsv says where each prompt went or why it was left out.
Needs: ${installHint([...Object.values(asteriskPackages), "ffmpeg", "apertium-eng-spa"])}

options:
  -o, --output DIR   output folder (required)
  --pair P           language pair (default en-es, the only one)
  --seed S           random seed of the talks (default 1): same seed, byte-identical files
  --jobs N           parallel decoders and apertium processes (default: the number of cores)
  --max-prompts N    only the first N prompts by name that have an English transcript
`;

export async function runAsterisk(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    options: {
      output: { type: "string", short: "o" },
      pair: { type: "string", default: "en-es" },
      ...stringFlags("seed", "jobs", "max-prompts"),
    },
    allowPositionals: false,
    strict: true,
  }, asteriskUsage);
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.output) throw new UsageError(`corpus asterisk: -o DIR is required\n\n${asteriskUsage}`);
  if (values.pair !== "en-es") throw new UsageError(`corpus asterisk: --pair ${values.pair}: only en-es (the packages' Spanish transcripts are the human side)`);
  const seed = intFlag(values.seed, "--seed", 0) ?? 1;
  const jobs = intFlag(values.jobs, "--jobs", 1) ?? availableParallelism();
  const maxPrompts = intFlag(values["max-prompts"], "--max-prompts", 1);
  const say = (msg: string) => process.stderr.write(`${msg}\n`);
  const pairDir = join(values.output, values.pair);
  mkdirSync(pairDir, { recursive: true });
  const logger = new JsonLogger(join(pairDir, "asterisk.log"));
  logger.log("start", { seed, pair: values.pair, jobs, maxPrompts: maxPrompts ?? null, packages: asteriskPackages });
  const s = await buildAsteriskCorpus({ outDir: values.output, pair: values.pair, seed, jobs, maxPrompts, logger, progress: Boolean(process.stderr.isTTY) });
  logger.log("end", { ...s });
  const reasons = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${k}: ${n}`).join(", ") || "none";
  say(`asterisk: ${s.recordings} recordings, transcripts of ${s.transcripts.en} English and ${s.transcripts.es} Spanish prompts`);
  for (const [split, x] of Object.entries(s.splits)) {
    const skipped = Object.values(x.skipped).reduce((a, b) => a + b, 0);
    say(`  ${split}: ${x.prompts} prompts in ${x.talks} talks, ${(x.seconds / 3600).toFixed(3)} h; ${skipped} skipped (${reasons(x.skipped)})`);
  }
  if (s.unrecorded.length > 0) say(`  transcripts without a recording (not used): ${s.unrecorded.join(", ")}`);
  if (s.duplicates.length > 0) say(`  repeated transcript lines (the first one is used): ${s.duplicates.join(", ")}`);
  for (const f of s.failed) say(`warning: ${f.prompt} could not be decoded and is left out: ${f.error}`);
  say(`wrote ${pairDir} in ${s.wallSeconds.toFixed(1)} s`);
  return 0;
}
