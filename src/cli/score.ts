// `nast score`: sacreBLEU 2.6.0's command line for BLEU, chrF/chrF++ and TER on plain-text files, with the
// same flags, defaults (JSON output, width 1), numbers, signatures and printed forms (eval/metrics/).
//   nast score REF [REF...] -i HYP            sacreBLEU style (references are positional)
//   nast score -r REF [REF...] [-i HYP...]    the same; hypotheses come from stdin without -i
// Several -i files (or tab-separated systems on stdin) score several systems; with --paired-bs the first one
// is the baseline of a paired bootstrap test.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Bleu, type SmoothMethod, SMOOTH_METHODS } from "../../eval/metrics/bleu.ts";
import { Chrf } from "../../eval/metrics/chrf.ts";
import { type Metric, corpusScore, type ReferenceStreams } from "../../eval/metrics/metric.ts";
import { pyRstrip } from "../../eval/metrics/python.ts";
import { formatMultiSystem, formatPaired, formatSingleResults } from "../../eval/metrics/report.ts";
import { corpusScoreWithCi, DEFAULT_SEED, pairedBootstrap } from "../../eval/metrics/significance.ts";
import { SACREBLEU_VERSION } from "../../eval/metrics/signature.ts";
import { Ter } from "../../eval/metrics/ter/index.ts";
import { isTokenizerName, TOKENIZER_NAMES } from "../../eval/metrics/tokenizers/index.ts";
import { InputError, UsageError } from "../util/errors.ts";

const METRIC_NAMES = ["bleu", "chrf", "ter"] as const;
type MetricName = (typeof METRIC_NAMES)[number];

interface OptionSpec {
  names: string[];
  dest: string;
  kind: "flag" | "value" | "list";
  /** at least one value for lists (argparse nargs '+') */
  nonEmpty?: boolean;
  help: string;
  metavar?: string;
}

const OPTIONS: OptionSpec[] = [
  { names: ["-r", "--refs"], dest: "refs", kind: "list", nonEmpty: true, metavar: "REF", help: "reference file(s), one per reference stream (positional arguments work too)" },
  { names: ["-i", "--input"], dest: "input", kind: "list", metavar: "HYP", help: "hypothesis file(s), one per system (default: stdin, systems separated by tabs)" },
  { names: ["-nr", "--num-refs"], dest: "num_refs", kind: "value", metavar: "N", help: "split each reference line on tabs into N references (default 1)" },
  { names: ["-l", "--language-pair"], dest: "langpair", kind: "value", metavar: "SRC-TRG", help: "language pair; a Chinese target (xx-zh) selects the zh tokenizer unless -tok is given" },
  { names: ["-e", "--encoding"], dest: "encoding", kind: "value", metavar: "ENC", help: "text encoding of the files (only utf-8)" },
  { names: ["-m", "--metrics"], dest: "metrics", kind: "list", nonEmpty: true, metavar: "M", help: "bleu, chrf, ter (default: bleu)" },
  { names: ["-sl", "--sentence-level"], dest: "sentence_level", kind: "flag", help: "score each sentence (one metric)" },
  { names: ["-s", "--smooth-method"], dest: "smooth_method", kind: "value", metavar: "M", help: "BLEU smoothing: exp (default), floor, add-k, none" },
  { names: ["-sv", "--smooth-value"], dest: "smooth_value", kind: "value", metavar: "V", help: "smoothing value (defaults: floor 0.1, add-k 1)" },
  { names: ["-tok", "--tokenize"], dest: "tokenize", kind: "value", metavar: "T", help: `BLEU tokenizer: ${TOKENIZER_NAMES.join(", ")} (default 13a)` },
  { names: ["-lc", "--lowercase"], dest: "lowercase", kind: "flag", help: "case-insensitive BLEU" },
  { names: ["--force"], dest: "force", kind: "flag", help: "do not warn about tokenized-looking BLEU input" },
  { names: ["-cc", "--chrf-char-order"], dest: "chrf_char_order", kind: "value", metavar: "N", help: "chrF character n-gram order (default 6)" },
  { names: ["-cw", "--chrf-word-order"], dest: "chrf_word_order", kind: "value", metavar: "N", help: "chrF word n-gram order (default 0; 2 = chrF++)" },
  { names: ["--chrf-beta"], dest: "chrf_beta", kind: "value", metavar: "B", help: "chrF recall weight (default 2)" },
  { names: ["--chrf-whitespace"], dest: "chrf_whitespace", kind: "flag", help: "keep whitespace in character n-grams" },
  { names: ["--chrf-lowercase"], dest: "chrf_lowercase", kind: "flag", help: "case-insensitive chrF" },
  { names: ["--chrf-eps-smoothing"], dest: "chrf_eps_smoothing", kind: "flag", help: "chrF++.py/NLTK/Moses epsilon smoothing" },
  { names: ["--ter-case-sensitive"], dest: "ter_case_sensitive", kind: "flag", help: "case-sensitive TER" },
  { names: ["--ter-asian-support"], dest: "ter_asian_support", kind: "flag", help: "TER: split CJK characters / remove CJK punctuation" },
  { names: ["--ter-no-punct"], dest: "ter_no_punct", kind: "flag", help: "TER: remove punctuation" },
  { names: ["--ter-normalized"], dest: "ter_normalized", kind: "flag", help: "TER: Tercom's normalization and tokenization" },
  { names: ["-ci", "--confidence"], dest: "confidence", kind: "flag", help: "bootstrap 95% confidence interval" },
  { names: ["-cin", "--confidence-n"], dest: "confidence_n", kind: "value", metavar: "N", help: "bootstrap resamples for -ci (default 1000)" },
  { names: ["-pbs", "--paired-bs"], dest: "paired_bs", kind: "flag", help: "paired bootstrap test; the first -i system is the baseline" },
  { names: ["-pbsn", "--paired-bs-n"], dest: "paired_bs_n", kind: "value", metavar: "N", help: "resamples for --paired-bs (default 1000)" },
  { names: ["-q", "--quiet"], dest: "quiet", kind: "flag", help: "no informational messages" },
  { names: ["-sh", "--short"], dest: "short", kind: "flag", help: "short signatures" },
  { names: ["-b", "--score-only"], dest: "score_only", kind: "flag", help: "print only the score" },
  { names: ["-w", "--width"], dest: "width", kind: "value", metavar: "W", help: "decimals (default 1)" },
  { names: ["-f", "--format"], dest: "format", kind: "value", metavar: "F", help: "json (default) or text" },
  { names: ["-nc", "--no-color"], dest: "no_color", kind: "flag", help: "accepted for compatibility (output is never coloured)" },
  { names: ["-V", "--version"], dest: "version", kind: "flag", help: "print the sacreBLEU version reproduced" },
  { names: ["-h", "--help"], dest: "help", kind: "flag", help: "this help" },
];

const BY_NAME = new Map(OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));

type Parsed = { positional: string[]; flags: Set<string>; values: Map<string, string>; lists: Map<string, string[]> };

/**
 * argparse-like parsing: options taking several values consume arguments up to the next option. (Not
 * parseFlags: sacreBLEU's multi-letter short options, -tok or -nr, and its lists are beyond node:util's
 * parseArgs.) A bad option is a UsageError showing the usage, as parseFlags makes it.
 */
export function parseScoreArgs(argv: string[]): Parsed {
  const parsed: Parsed = { positional: [], flags: new Set(), values: new Map(), lists: new Map() };
  const isOption = (a: string) => a.startsWith("-") && a !== "-" && !/^-\d/.test(a);
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k] as string;
    if (arg === "--") {
      parsed.positional.push(...argv.slice(k + 1));
      break;
    }
    if (!isOption(arg)) {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const spec = BY_NAME.get(name);
    if (spec === undefined) throw new UsageError(`score: unknown option '${name}'\n\n${usage()}`);
    if (spec.kind === "flag") {
      if (eq !== -1) throw new UsageError(`score: ${name} takes no value\n\n${usage()}`);
      parsed.flags.add(spec.dest);
    } else if (spec.kind === "value") {
      let value: string | undefined;
      if (eq !== -1) value = arg.slice(eq + 1);
      else value = argv[++k];
      if (value === undefined || (eq === -1 && isOption(value))) throw new UsageError(`score: ${name} needs a value\n\n${usage()}`);
      parsed.values.set(spec.dest, value);
    } else {
      const values: string[] = eq !== -1 ? [arg.slice(eq + 1)] : [];
      while (k + 1 < argv.length && !isOption(argv[k + 1] as string)) values.push(argv[++k] as string);
      if (spec.nonEmpty && values.length === 0) throw new UsageError(`score: ${name} needs at least one value\n\n${usage()}`);
      parsed.lists.set(spec.dest, [...(parsed.lists.get(spec.dest) ?? []), ...values]);
    }
  }
  return parsed;
}

function usage(): string {
  const lines = [
    "usage: nast score REF [REF...] [-i HYP [HYP...]] [options]",
    "       nast score -r REF [REF...] [-i HYP [HYP...]] [options]",
    "",
    `BLEU, chrF/chrF++ and TER exactly as sacreBLEU ${SACREBLEU_VERSION} computes and prints them.`,
    "Hypotheses are read from stdin when -i is not given. Output is JSON unless -f text.",
    "",
  ];
  for (const o of OPTIONS) {
    const flag = `${o.names.join(", ")}${o.kind === "flag" ? "" : ` ${o.metavar ?? "X"}${o.kind === "list" ? " ..." : ""}`}`;
    lines.push(`  ${flag.padEnd(34)} ${o.help}`);
  }
  return `${lines.join("\n")}\n`;
}

function intValue(p: Parsed, dest: string, flag: string, fallback: number): number {
  const raw = p.values.get(dest);
  if (raw === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`score: ${flag} expects an integer, got '${raw}'`);
  return Number.parseInt(raw, 10);
}

function choice<T extends string>(p: Parsed, dest: string, flag: string, choices: readonly T[], fallback: T): T {
  const raw = p.values.get(dest);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`score: ${flag}: invalid choice '${raw}' (choose from ${choices.join(", ")})`);
  }
  return raw as T;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly, naming the file and line of the first invalid byte. */
function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (let k = 0; k <= bytes.length; k++) {
      if (k === bytes.length || bytes[k] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, k));
        } catch {
          throw new InputError(name, `line ${line} is not valid UTF-8; convert the file to UTF-8 (e.g. with iconv)`);
        }
        line++;
        start = k + 1;
      }
    }
    throw new InputError(name, "is not valid UTF-8");
  }
}

/** A file's lines as Python reads them with newline="\n": split on \n only, no empty line after a final \n. */
function fileLines(path: string): string[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? "no such file" : `cannot be read (${code ?? String(err)})`);
  }
  if (path.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new InputError(path, "is not a valid gzip file");
    }
  }
  const text = decodeUtf8(bytes, path);
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Exit status sacreBLEU uses for malformed input (wrong number of tab-separated fields). */
const EXIT_BAD_FIELDS = 17;

class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function readReferences(files: string[], numRefs: number): string[][] {
  if (numRefs !== 1 && files.length > 1) {
    throw new UsageError("score: --num-refs splits ONE tab-separated reference file; give a single reference file with it");
  }
  const streams: string[][] = Array.from({ length: Math.max(files.length, numRefs) }, () => []);
  files.forEach((file, refNo) => {
    fileLines(file).forEach((raw, k) => {
      const line = pyRstrip(raw);
      if (numRefs === 1) {
        (streams[refNo] as string[]).push(line);
        return;
      }
      const fields = splitMax(line, "\t", numRefs - 1);
      if (fields.length !== numRefs) {
        throw new ExitError(`${file}: line ${k + 1}: expected ${numRefs} tab-separated references, but found ${fields.length}.`, EXIT_BAD_FIELDS);
      }
      fields.forEach((f, j) => (streams[j] as string[]).push(f));
    });
  });
  return streams;
}

/** Python's str.split(sep, maxsplit). */
function splitMax(s: string, sep: string, maxSplit: number): string[] {
  const parts = s.split(sep);
  if (parts.length <= maxSplit + 1) return parts;
  return [...parts.slice(0, maxSplit), parts.slice(maxSplit).join(sep)];
}

interface Systems {
  names: string[];
  hyps: string[][];
  source: string[];
}

async function readSystems(inputs: string[] | undefined, paired: boolean): Promise<Systems> {
  if (inputs === undefined || inputs.length === 0) {
    // stdin is read with universal newlines (sacreBLEU wraps it in a default TextIOWrapper); each line holds
    // one tab-separated field per system, the first line deciding how many.
    const text = decodeUtf8(await readStdin(), "<stdin>").replace(/\r\n?/g, "\n");
    const lines = text.split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    const first = pyRstrip(lines[0] ?? "").split("\t");
    const hyps = first.map((f) => [f]);
    for (let k = 1; k < lines.length; k++) {
      const fields = pyRstrip(lines[k] as string).split("\t");
      if (fields.length !== hyps.length) {
        throw new ExitError(
          `<stdin>: line ${k + 1} has ${fields.length} tab-separated fields but line 1 has ${hyps.length}; every line needs one field per system.`,
          EXIT_BAD_FIELDS,
        );
      }
      fields.forEach((f, j) => (hyps[j] as string[]).push(pyRstrip(f)));
    }
    const names = paired ? ["Baseline", ...hyps.slice(1).map((_, i) => `System ${i + 1}`)] : hyps.map((_, i) => `System ${i + 1}`);
    return { names, hyps, source: hyps.map(() => "<stdin>") };
  }
  const names: string[] = [];
  const hyps: string[][] = [];
  for (const file of inputs) {
    if (names.includes(file)) {
      if (paired && file === names[0]) continue; // the baseline given again
      throw new UsageError(`score: '${file}' is given twice as a system; give each system once`);
    }
    names.push(file);
    hyps.push(fileLines(file).map(pyRstrip));
  }
  if (paired) names[0] = `Baseline: ${names[0]}`;
  return { names, hyps, source: [...inputs] };
}

function buildMetrics(p: Parsed, names: MetricName[], sentenceLevel: boolean): Map<MetricName, Metric> {
  // As sacreBLEU: the target language picks BLEU's default tokenizer (zh for Chinese, mecab for ja/ko).
  const target = p.values.get("langpair")?.split("-")[1];
  const explicit = p.values.get("tokenize");
  if (explicit === undefined && (target === "ja" || target === "ko")) {
    throw new UsageError(`score: the ${target}-mecab tokenizer is not available; choose one with -tok (e.g. -tok char or -tok intl)`);
  }
  if (explicit !== undefined && target === "zh" && explicit !== "zh") {
    process.stderr.write("sacreBLEU: Consider using the 'zh' or 'spm' tokenizer for Chinese.\n");
  }
  const tokenize = explicit ?? (target === "zh" ? "zh" : "13a");
  if (!isTokenizerName(tokenize)) {
    throw new UsageError(`score: -tok: invalid choice '${tokenize}' (choose from ${TOKENIZER_NAMES.join(", ")})`);
  }
  const smoothMethod = choice<SmoothMethod>(p, "smooth_method", "-s", SMOOTH_METHODS, "exp");
  const rawValue = p.values.get("smooth_value");
  let smoothValue: number | null = null;
  if (rawValue !== undefined) {
    smoothValue = Number(rawValue);
    if (rawValue.trim() === "" || Number.isNaN(smoothValue)) throw new UsageError(`score: -sv expects a number, got '${rawValue}'`);
  }
  const metrics = new Map<MetricName, Metric>();
  for (const name of names) {
    if (name === "bleu") {
      metrics.set(
        name,
        new Bleu({
          tokenize,
          lowercase: p.flags.has("lowercase"),
          smoothMethod,
          smoothValue,
          effectiveOrder: sentenceLevel,
          force: p.flags.has("force"),
        }),
      );
    } else if (name === "chrf") {
      metrics.set(
        name,
        new Chrf({
          charOrder: intValue(p, "chrf_char_order", "-cc", 6),
          wordOrder: intValue(p, "chrf_word_order", "-cw", 0),
          beta: intValue(p, "chrf_beta", "--chrf-beta", 2),
          lowercase: p.flags.has("chrf_lowercase"),
          whitespace: p.flags.has("chrf_whitespace"),
          epsSmoothing: p.flags.has("chrf_eps_smoothing"),
        }),
      );
    } else {
      metrics.set(
        name,
        new Ter({
          normalized: p.flags.has("ter_normalized"),
          noPunct: p.flags.has("ter_no_punct"),
          asianSupport: p.flags.has("ter_asian_support"),
          caseSensitive: p.flags.has("ter_case_sensitive"),
        }),
      );
    }
  }
  return metrics;
}

/**
 * One system, -f json, as sacreBLEU 2.6.0's print_single_results prints it: one metric's string alone (its JSON
 * object, or with -b only the score), several joined into "[\n...,\n...\n]" (JSON objects, or with -b bare scores).
 */
function singleJson(results: string[]): string {
  return results.length === 1 ? (results[0] as string) : `[\n${results.join(",\n")}\n]`;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseScoreArgs(argv);
  if (p.flags.has("help")) {
    process.stdout.write(usage());
    return 0;
  }
  if (p.flags.has("version")) {
    process.stdout.write(`sacrebleu ${SACREBLEU_VERSION} (nast score)\n`);
    return 0;
  }
  try {
    return await score(p);
  } catch (err) {
    if (err instanceof ExitError) {
      process.stderr.write(`nast score: ${err.message}\n`);
      return err.code;
    }
    if (err instanceof InputError) {
      process.stderr.write(`nast score: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function score(p: Parsed): Promise<number> {
  const metricNames = (p.lists.get("metrics") ?? ["bleu"]).map((m) => m.toLowerCase());
  for (const m of metricNames) {
    if (!(METRIC_NAMES as readonly string[]).includes(m)) {
      throw new UsageError(`score: -m: invalid choice '${m}' (choose from ${METRIC_NAMES.join(", ")})`);
    }
  }
  const format = choice(p, "format", "-f", ["json", "text"] as const, "json");
  const width = intValue(p, "width", "-w", 1);
  if (width < 0) throw new UsageError("score: -w must be >= 0");
  const encoding = (p.values.get("encoding") ?? "utf-8").toLowerCase().replace("_", "-");
  if (encoding !== "utf-8" && encoding !== "utf8") throw new UsageError(`score: only utf-8 input is supported, not '${encoding}'`);
  const sentenceLevel = p.flags.has("sentence_level");
  const paired = p.flags.has("paired_bs");
  const confidence = p.flags.has("confidence");
  const short = p.flags.has("short");
  const scoreOnly = p.flags.has("score_only");
  const numRefs = intValue(p, "num_refs", "-nr", 1);
  if (numRefs < 1) throw new UsageError("score: -nr must be >= 1");

  const refFiles = [...(p.lists.get("refs") ?? []), ...p.positional];
  if (refFiles.length === 0) {
    throw new UsageError("score: no reference file given (nast score -r REF [REF...] [-i HYP]); see nast score --help");
  }
  if (sentenceLevel && metricNames.length > 1) throw new UsageError("score: only one metric can be used in sentence-level mode");

  const metrics = buildMetrics(p, metricNames as MetricName[], sentenceLevel);
  const refs: ReferenceStreams = readReferences(refFiles, numRefs);
  const systems = await readSystems(p.lists.get("input"), paired);
  const numSys = systems.hyps.length;

  if (sentenceLevel && numSys > 1) throw new UsageError("score: only one system can be evaluated in sentence-level mode");
  if (sentenceLevel && (confidence || paired)) throw new UsageError("score: statistical tests are unavailable in sentence-level mode");
  if (paired && numSys === 1) throw new UsageError("score: paired tests need several systems: give the baseline and the others to -i");
  if (numSys > 1 && confidence) throw new UsageError("score: use --paired-bs for several systems");

  // Every reference stream must have one line per hypothesis.
  for (let s = 0; s < numSys; s++) {
    const hyps = systems.hyps[s] as string[];
    if (hyps.length === 0) throw new ExitError(`hypotheses ${systems.source[s]} are empty: there is nothing to score`, 1);
    refs.forEach((stream, k) => {
      if (stream.length !== hyps.length) {
        const refName = numRefs > 1 ? `${refFiles[0]} (field ${k + 1})` : (refFiles[k] as string);
        throw new ExitError(
          `hypotheses ${systems.source[s]} have ${hyps.length} lines but reference ${refName} has ${stream.length} lines; ` +
            "every reference file needs one line per hypothesis",
          1,
        );
      }
    });
  }

  // sacreBLEU orders metrics by name (BLEU, CHRF, TER) for single systems, and keeps -m order in tables.
  const sorted = [...metrics.entries()].sort(([a], [b]) => a.localeCompare(b));
  const out: string[] = [];

  if (sentenceLevel) {
    const [, metric] = sorted[0] as [MetricName, Metric];
    const hyps = systems.hyps[0] as string[];
    hyps.forEach((hyp, i) => {
      const s = corpusScore(metric, [hyp], refs.map((stream) => [stream[i] ?? null]), { warn: () => {} });
      out.push(s.format(width, { scoreOnly, short }));
    });
  } else if (numSys === 1) {
    const hyps = systems.hyps[0] as string[];
    const results = sorted.map(([, metric]) => {
      const s = confidence
        ? corpusScoreWithCi(metric, hyps, refs, intValue(p, "confidence_n", "-cin", 1000), DEFAULT_SEED)
        : corpusScore(metric, hyps, refs);
      return s.format(width, { scoreOnly, short, json: format === "json" });
    });
    out.push(format === "json" ? singleJson(results) : formatSingleResults(results, false));
  } else if (!paired) {
    const scores = new Map<string, string[]>();
    const signatures: [string, string][] = [];
    for (const [, metric] of sorted) {
      const nameScores: string[] = [];
      let name = "";
      for (const hyps of systems.hyps) {
        const s = corpusScore(metric, hyps, refs);
        name = s.name;
        nameScores.push(s.format(width, { scoreOnly: true }));
        if (signatures.every(([n]) => n !== s.name)) signatures.push([s.name, s.signatureInfo.format(short)]);
      }
      scores.set(name, nameScores);
    }
    out.push(formatMultiSystem(systems.names, scores, signatures, format === "json"));
  } else {
    const samples = intValue(p, "paired_bs_n", "-pbsn", 1000);
    const n = samples > 0 ? samples : 1000;
    const inOrder = metricNames.map((m) => metrics.get(m as MetricName) as Metric);
    const { signatures, results } = pairedBootstrap(systems.hyps, refs, inOrder, n, DEFAULT_SEED);
    const sigs: [string, string][] = [...signatures.entries()].map(([name, sig]) => [name, sig.format(short)]);
    out.push(formatPaired(systems.names, results, sigs, n, width, format === "json"));
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}
