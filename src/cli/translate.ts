// `nast translate <audio...>`: any format and length, one model load for all inputs, outputs txt (stdout
// by default), json, srt, vtt. A bad input is reported (naming it) and the others go on; the exit code is
// 0 only if every input was translated. Nothing here (or below) imports src/torch.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { loadModelPackage } from "../infer/model-package.ts";
import { NastSession } from "../infer/session.ts";
import { Translator } from "../infer/translator.ts";
import { loadSegmenter, SEGMENTERS, type SegmenterName } from "../infer/vad.ts";
import { FORMATS, render, type FileResult, type Format } from "../infer/writers.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { intFlag, parseFlags } from "./args.ts";

const USAGE = `usage: nast translate <audio...> [-m MODEL_DIR] [-f txt|json|srt|vtt|all] [-o OUT_DIR]
                      [--threads N] [--beam N] [--batch N] [--vad silero|energy]

Translates speech in audio files of any format (WAV in-process, others through ffmpeg) and any length
(long audio is cut at pauses into segments of at most ~20 s). "-" reads one input from stdin.

options:
  -m, --model DIR     model package written by \`nast export\` (default: models/default of this package)
  -f, --format F      txt (default), json, srt, vtt, a comma list, or all
  -o, --output DIR    write <name>.<format> files into DIR (default: print to stdout)
      --threads N     onnxruntime threads (default: all cores)
      --beam N        CTC prefix beam search with N beams (default 0: greedy, as the reference)
      --top-k K       tokens per frame the beam search considers (default 40)
      --batch N       segments per network batch (default 8)
      --vad V         how audio is cut into segments: silero (Silero VAD, a neural voice-activity
                      detector; the default) or energy (pauses in the signal energy); silero falls
                      back to energy, with a warning, when its model cannot be loaded
  -h, --help          this help

On stdout, txt prints one line per input (its whole translation), json one object per input (an
array for several inputs), srt/vtt the subtitles of each input. Files written with -o hold txt as one
line per segment. An input in which no speech is found gives an empty translation and a warning on
stderr that names it and its level. Exit status: 0 if every input was translated, 1 otherwise.
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

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: "string", short: "m" },
        format: { type: "string", short: "f" },
        output: { type: "string", short: "o" },
        threads: { type: "string" },
        beam: { type: "string" },
        "top-k": { type: "string" },
        batch: { type: "string" },
        vad: { type: "string" },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals: inputs } = parsed;
  if (inputs.length === 0) throw new UsageError(`no audio input given\n\n${USAGE}`);
  if (inputs.filter((i) => i === "-").length > 1) throw new UsageError(`"-" (stdin) can be given only once`);
  if (inputs.includes("-") && process.stdin.isTTY) throw new UsageError(`"-" reads audio from stdin, but stdin is a terminal; pipe a file in (nast translate - < talk.mp3)`);
  const formats = parseFormats(values.format);
  const outDir = values.output;
  if (outDir === undefined && formats.length > 1) throw new UsageError(`several formats (-f ${values.format}) need -o OUT_DIR`);
  const threads = intFlag(values.threads, "--threads", 1);
  const beam = intFlag(values.beam, "--beam", 0);
  const topK = intFlag(values["top-k"], "--top-k", 1);
  const batchSize = intFlag(values.batch, "--batch", 1);
  const vad = values.vad ?? DEFAULT_VAD;
  if (!(SEGMENTERS as readonly string[]).includes(vad)) throw new UsageError(`--vad: unknown segmenter '${vad}' (use ${SEGMENTERS.join(" or ")})`);
  const warn = (message: string): void => void process.stderr.write(`nast translate: warning: ${message}\n`);

  const pkg = loadModelPackage(values.model);
  const modelDir = values.model ?? pkg.dir;
  const session = await NastSession.create(pkg, { threads });
  const segmenter = await loadSegmenter(vad as SegmenterName, warn);
  const translator = new Translator(pkg, session, { beam, topK, batchSize, segmenter, warn });
  if (outDir !== undefined) {
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (err) {
      throw new UsageError(`-o ${outDir}: cannot create the output directory (${errorMessage(err)})`);
    }
  }

  const stems = outputStems(inputs);
  const jsonOut: FileResult[] = [];
  const emit = (result: FileResult, stem: string): void => {
    if (outDir !== undefined) {
      for (const f of formats) {
        const path = join(outDir, `${stem}.${f}`);
        try {
          writeFileSync(path, render(f, result));
        } catch (err) {
          throw new Error(`cannot write ${path} (${errorMessage(err)})`);
        }
      }
    } else if (formats[0] === "txt") {
      process.stdout.write(`${result.translation}\n`);
    } else if (formats[0] === "json") {
      jsonOut.push(result);
    } else {
      process.stdout.write(render(formats[0]!, result));
    }
  };
  let failed = 0;
  for (const [i, input] of inputs.entries()) {
    try {
      emit(await translator.translateFile(input, modelDir), stems[i]!);
    } catch (err) {
      failed++;
      const msg = errorMessage(err);
      process.stderr.write(`nast translate: ${msg.startsWith(input) ? msg : `${input}: ${msg}`}\n`);
    }
  }
  if (jsonOut.length > 0) process.stdout.write(`${JSON.stringify(inputs.length === 1 ? jsonOut[0] : jsonOut, null, 2)}\n`);
  await session.release();
  await segmenter.release();
  if (failed > 0) process.stderr.write(`nast translate: ${failed} of ${inputs.length} inputs failed\n`);
  return failed === 0 ? 0 : 1;
}
