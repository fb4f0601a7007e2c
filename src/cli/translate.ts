// `nast translate <audio...|DIR>`: any format and length, one model load for all inputs (a directory: its
// audio and video files), the next input decoded while the network works on this one, outputs txt (stdout
// by default), json, srt, vtt. A bad input is reported (naming it) and the others go on; the exit code is
// 0 only if every input was translated. Output is written as the translation goes (src/infer/writers.ts),
// files through temporary files renamed into place. Nothing here (or below) imports src/torch.
import { basename, extname, join } from "node:path";
import { loadModelPackage } from "../formats/model-package.ts";
import { NastSession, openSession } from "../infer/session.ts";
import { Translator } from "../infer/translator.ts";
import { loadSegmenter } from "../infer/vad.ts";
import { defaultCacheDir } from "../infer/session-cache.ts";
import { SEGMENTERS, type SegmenterName } from "../infer/segmenters.ts";
import { OutputFile, checkOutputDir, checkOutputTarget, fsReason } from "../infer/writers.ts";
import { FORMATS, resultWriter, teeSink, type Format, type ResultSink } from "../infer/result-formats.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { StageTimes, roundMs } from "../util/stage-times.ts";
import { booleanFlags, intFlag, numberFlag, parseFlags, stringFlags } from "./args.ts";
import { expandInputs } from "./input-files.ts";

const USAGE = `usage: nast translate <audio...|DIR...> [-m MODEL_DIR] [-f txt|json|srt|vtt|all] [-o OUT_DIR] [--force]
                      [--threads N] [--beam N] [--blank-penalty X] [--batch N] [--vad silero|energy] [--no-cache] [--timings]

Translates speech in audio files of any format (WAV in-process, others through ffmpeg) and any length
(long audio is cut at pauses into segments of at most ~20 s). "-" reads one input from stdin. Every
input is read twice (levels first, then cut and translated as it is read again), so memory does not
grow with its length; stdin and FIFOs are copied to a temporary file ($TMPDIR) for that. A directory
stands for the audio and video files directly in it (by extension), in name order. With several
inputs the model is loaded once, the next input is read through while the network works on this
one, and one progress bar counts the inputs.

options:
  -m, --model DIR     model package written by \`nast export\` (default: models/default of this package)
  -f, --format F      txt (default), json, srt, vtt, a comma list, or all
  -o, --output DIR    write <name>.<format> files into DIR (default: print to stdout)
      --force         replace output files that exist (default: keep them, see below)
      --threads N     onnxruntime threads (default: all cores)
      --beam N        CTC prefix beam search with N beams (default 0: greedy, as the reference);
                      for an autoregressive model the decoder's beam search (length-normalised)
      --top-k K       tokens per frame the beam search considers (default 40)
      --blank-penalty X
                      lower the translation CTC's blank log-probability by X in every frame
                      (default: the package's, config.json "decoding", else 0): longer outputs where
                      the model is unsure, e.g. on real voices (docs/model.md §6); CTC-NAST models only
      --batch N       segments per network batch (default 8)
      --vad V         how audio is cut into segments: silero (Silero VAD, a neural voice-activity
                      detector; the default) or energy (pauses in the signal energy); silero falls
                      back to energy, with a warning, when its model cannot be loaded
      --no-cache      do not read or write the cache of optimized graphs (see below; also NAST_NO_CACHE=1)
      --timings       report the time of each start-up and translation stage on stderr, as JSON
                      lines {"event":"stage","stage":…,"start_ms":…,"ms":…} (ms since the process started)
  -h, --help          this help

On stdout, txt prints exactly one line per input, in the order given: its whole translation, or an
empty line for an input that failed (its error goes to stderr, naming it). json prints one object
per input (for several inputs, an array of those translated), srt/vtt the subtitles of each input.
Output comes as the translation goes, segment by segment; each input is read through once before its
translation starts, so an input that cannot be decoded fails before any of its output appears.

Files written with -o hold txt as one line per segment. OUT_DIR is created if needed and checked to
be writable before the model is loaded. Each file is written to a temporary file in OUT_DIR, then
renamed into place when complete, so a file is never left half-written (not even on a full disk).
An output file that exists is kept: that input is not translated and counts as failed, unless
--force is given. A symbolic link is never written through or replaced, even with --force.

onnxruntime optimizes a model's graph each time it loads it; the optimized graphs of the model and of
Silero VAD are cached in $XDG_CACHE_HOME/nast/onnxruntime (default ~/.cache/nast/onnxruntime), keyed by
the model's SHA-256, the onnxruntime version and the CPU, so the next start skips that work. An entry
that does not match (another model, version or CPU; a damaged file) is rebuilt; a cache that cannot be
written is not used. Results are the same with and without it.

An input in which no speech is found gives an empty translation and a warning on stderr that names
it and its level. Exit status: 0 if every input was translated, 1 otherwise (2: usage errors).
`;

/** The segmenter `nast translate` uses without --vad. */
const DEFAULT_VAD: SegmenterName = "silero";

function parseFormats(value: string | undefined): Format[] {
  if (value === undefined) return ["txt"];
  if (value === "all") return [...FORMATS];
  const list = value.split(",").map((f) => f.trim());
  for (const f of list) {
    if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`-f: unknown format '${f}' (use ${FORMATS.join(", ")} or all)`);
  }
  return [...new Set(list)] as Format[];
}

/** Output file stems, unique within one call (two inputs named talk.wav and talk.mp3 → talk, talk-2). */
function outputStems(inputs: string[]): string[] {
  const seen = new Map<string, number>();
  return inputs.map((input) => {
    const stem = input === "-" ? "stdin" : basename(input, extname(input)) || "audio";
    const n = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, n);
    return n === 1 ? stem : `${stem}-${n}`;
  });
}

/**
 * Errors of stdout end the process at once, without a stack trace: a reader that went away (EPIPE,
 * `nast translate … | head`) quietly, anything else (a full disk: ENOSPC) with one line on stderr.
 */
function guardStdout(): void {
  process.stdout.prependListener("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    process.stderr.write(`nast translate: cannot write to standard output: ${fsReason(err)}\n`);
    process.exit(1);
  });
}

const toStdout = (text: string): void => void process.stdout.write(text);

/**
 * Before any work: the output directory must take files, and no output may be overwritten unasked. The
 * problems of each input's targets (the inputs whose outputs are refused), by input index.
 */
function refusedOutputs(outDir: string, inputs: number, targets: (i: number) => string[], force: boolean): Map<number, unknown[]> {
  try {
    checkOutputDir(outDir);
  } catch (err) {
    throw new UsageError(`-o ${errorMessage(err)}`);
  }
  const refused = new Map<number, unknown[]>();
  for (let i = 0; i < inputs; i++) {
    const problems: unknown[] = [];
    for (const path of targets(i)) {
      try {
        checkOutputTarget(path, { force });
      } catch (err) {
        problems.push(err);
      }
    }
    if (problems.length > 0) refused.set(i, problems);
  }
  return refused;
}

/** One input into its files under -o: each file appears whole (committed) or not at all. */
async function translateToFiles(translator: Translator, input: string, modelDir: string, paths: string[], formats: readonly Format[], force: boolean): Promise<void> {
  const files: OutputFile[] = [];
  try {
    for (const path of paths) files.push(OutputFile.create(path, { force }));
    await translator.translateStream(input, modelDir, teeSink(formats.map((f, k) => resultWriter(f, (text) => files[k]!.write(text)))));
    for (const file of files) file.commit();
  } catch (err) {
    for (const file of files) file.abort();
    throw err;
  }
}

/** txt on stdout: the whole translation on one line once the input is done, and an empty line when it failed. */
async function translateToLine(translator: Translator, input: string, modelDir: string): Promise<void> {
  let line = "";
  try {
    let whole = "";
    await translator.translateStream(input, modelDir, { begin: () => {}, segment: () => {}, end: (t) => (whole = t.replace(/[\r\n]+/g, " ")) });
    line = whole;
  } finally {
    toStdout(`${line}\n`);
  }
}

/** One element of the JSON array that several inputs make on stdout (the first opens the array). */
function jsonArrayElement(array: { elements: number }): ResultSink {
  const element = resultWriter("json", toStdout, { indent: "  ", trailer: "" });
  return {
    begin: (h) => {
      toStdout(array.elements++ === 0 ? "[\n" : ",\n");
      element.begin(h);
    },
    segment: (s) => element.segment(s),
    end: (t) => element.end(t),
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: "string", short: "m" },
        format: { type: "string", short: "f" },
        output: { type: "string", short: "o" },
        ...booleanFlags("force", "timings", "no-cache"),
        ...stringFlags("threads", "beam", "top-k", "blank-penalty", "batch", "vad"),
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const stages = new StageTimes(values.timings ?? false);
  stages.startup();
  if (positionals.length === 0) throw new UsageError(`no audio input given\n\n${USAGE}`);
  if (positionals.filter((i) => i === "-").length > 1) throw new UsageError(`"-" (stdin) can be given only once`);
  const { inputs, failed: unreadable } = expandInputs(positionals);
  if (inputs.includes("-") && process.stdin.isTTY) throw new UsageError(`"-" reads audio from stdin, but stdin is a terminal; pipe a file in (nast translate - < talk.mp3)`);
  const formats = parseFormats(values.format);
  const outDir = values.output;
  if (outDir === undefined && formats.length > 1) throw new UsageError(`several formats (-f ${values.format}) need -o OUT_DIR`);
  const threads = intFlag(values.threads, "--threads", 1);
  const beam = intFlag(values.beam, "--beam", 0);
  const blankPenalty = numberFlag(values["blank-penalty"], "--blank-penalty");
  const topK = intFlag(values["top-k"], "--top-k", 1);
  const batchSize = intFlag(values.batch, "--batch", 1);
  const vad = values.vad ?? DEFAULT_VAD;
  if (!(SEGMENTERS as readonly string[]).includes(vad)) throw new UsageError(`--vad: unknown segmenter '${vad}' (use ${SEGMENTERS.join(" or ")})`);
  const force = values.force ?? false;
  const warn = (message: string): void => void process.stderr.write(`nast translate: warning: ${message}\n`);
  const fail = (input: string, err: unknown): void => {
    const msg = errorMessage(err);
    process.stderr.write(`nast translate: ${msg.startsWith(input) ? msg : `${input}: ${msg}`}\n`);
  };
  guardStdout();

  const stems = outputStems(inputs);
  const targets = (i: number): string[] => formats.map((f) => join(outDir!, `${stems[i]}.${f}`));
  const refused = outDir === undefined ? new Map<number, unknown[]>() : refusedOutputs(outDir, inputs.length, targets, force);
  for (const [i, err] of unreadable) refused.set(i, [err]);
  // Ctrl-C or a kill: exit, which removes the temporary files (outputs being written, a copy of stdin).
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) process.once(signal, () => process.exit(code));

  let failed = 0;
  // txt on stdout: a line per input, empty for one that failed.
  const lineMode = outDir === undefined && formats[0] === "txt";
  if (refused.size === inputs.length) {
    for (const [i, problems] of [...refused].sort(([a], [b]) => a - b)) {
      for (const err of problems) fail(inputs[i]!, err);
      if (lineMode) toStdout("\n");
    }
    process.stderr.write(`nast translate: ${inputs.length} of ${inputs.length} inputs failed\n`);
    return 1;
  }

  const cacheDir = values["no-cache"] ? undefined : defaultCacheDir();
  // The cache also remembers model.onnx's checks, so that a session from the cache never reads the model.
  const pkg = await stages.time("package", () => loadModelPackage(values.model, cacheDir !== undefined ? { memoDir: cacheDir } : {}));
  const modelDir = values.model ?? pkg.dir;
  const session = await stages.time("session", () => openSession(pkg, { threads, ...(cacheDir !== undefined ? { cacheDir } : {}) }));
  if (session instanceof NastSession) stages.note("session", { cache: session.cache });
  const segmenter = await stages.time("vad", () => loadSegmenter(vad as SegmenterName, warn, undefined, cacheDir));
  // Several inputs: one bar over them all (by input), instead of one per long input.
  const many = inputs.length > 1;
  const decoding = { beam, topK, batchSize, ...(blankPenalty !== undefined ? { blankPenalty } : {}) };
  const translator = new Translator(pkg, session, { ...decoding, segmenter, warn, ...(many ? { progress: false } : {}) });
  const bar = many ? new Progress({ total: inputs.length, label: "translate", unit: " inputs" }) : undefined;

  // stdout json with several inputs: one array, an element per input translated.
  const jsonArray = outDir === undefined && formats[0] === "json" && inputs.length > 1 ? { elements: 0 } : undefined;
  await stages.time("translate", async () => {
    for (const [i, input] of inputs.entries()) {
      const problems = refused.get(i);
      if (problems) {
        for (const err of problems) fail(input, err);
        if (lineMode) toStdout("\n");
        failed++;
        bar?.tick(1, basename(input));
        continue;
      }
      // The next input's first pass (decoding, metering) overlaps this one's network time.
      const next = inputs.findIndex((_, k) => k > i && !refused.has(k));
      if (next >= 0) translator.prefetch(inputs[next]!);
      try {
        if (outDir !== undefined) await translateToFiles(translator, input, modelDir, targets(i), formats, force);
        else if (lineMode) await translateToLine(translator, input, modelDir);
        else await translator.translateStream(input, modelDir, jsonArray ? jsonArrayElement(jsonArray) : resultWriter(formats[0]!, toStdout));
      } catch (err) {
        failed++;
        fail(input, err);
        await translator.discard(input);
      }
      bar?.tick(1, basename(input));
    }
    bar?.finish();
  }, { inputs: inputs.length });
  // Where the translation's time went: reading audio (and segmenting it), features, the network, CTC decoding.
  const spent = translator.timings;
  const ms = (seconds: number): number => roundMs(seconds * 1000);
  stages.note("translate", { audio_ms: ms(spent.audio), features_ms: ms(spent.features), network_ms: ms(spent.network), ctc_ms: ms(spent.ctc) });
  if (jsonArray && jsonArray.elements > 0) toStdout("\n]\n");
  await stages.time("release", async () => {
    await session.release();
    await segmenter.release();
  });
  stages.total();
  if (failed > 0) process.stderr.write(`nast translate: ${failed} of ${inputs.length} inputs failed\n`);
  return failed === 0 ? 0 : 1;
}
