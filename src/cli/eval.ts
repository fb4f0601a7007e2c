// `nast eval`: translate and score a split in MuST-C layout (eval/harness/mustc-eval.ts); writes the
// hypotheses, report.json and report.md, and prints the Markdown report (or the JSON with --json).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { END_TOLERANCE_SECONDS, evaluateMustc, reportMarkdown, SEGMENTATIONS, type Segmentation } from "../../eval/harness/mustc-eval.ts";
import { parsePair } from "../data/mustc.ts";
import { UsageError } from "../util/errors.ts";
import { intFlag, numberFlag, parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast eval --mustc ROOT --pair en-es --split tst-COMMON [-m MODEL_DIR] [-o REPORT_DIR] [--json]
                 [--beam N] [--blank-penalty X] [--batch N] [--threads N] [--segment oracle|silero|energy]

Translates every segment of ROOT/<pair>/data/<split> (MuST-C layout: wav/, txt/<split>.yaml, .<src>, .<tgt>)
and scores it: BLEU, chrF2 and TER with sacreBLEU signatures against .<tgt>, source WER of the source CTC
transcript against .<src>, wall time, real-time factor and segments per second.

With --segment silero or energy, the YAML segmentation is ignored for translating: each talk is cut
as \`nast translate\` cuts it (Silero VAD, or pauses in the energy), and since those segments do not
line up with the references, BLEU, chrF2, TER and source WER are computed at the talk level: each
talk's hypotheses and references are joined in time order, one line per talk. The report gives the
talk-level scores of the YAML (oracle) segmentation in every mode, so the numbers compare, and for
an automatic segmentation how well its segments match the YAML ones (segments covered, boundary
error in seconds).

options:
      --mustc ROOT     corpus root in MuST-C layout
      --pair P         language pair, e.g. en-es
      --split S        split, e.g. tst-COMMON or dev
  -m, --model DIR      model package (default: models/default of this package)
  -o, --output DIR     where hyp.<tgt>, hyp.<src>, report.json and report.md go (default: nast-eval-<pair>-<split>)
      --json           print report.json instead of report.md
      --beam N         CTC prefix beam search with N beams (default 0: greedy); for an
                       autoregressive model the decoder's beam search
      --blank-penalty X
                       lower the translation CTC's blank log-probability by X (as nast translate)
      --batch N        segments per network batch (default 8)
      --threads N      onnxruntime threads (default: all cores)
      --segment S      oracle (default: the YAML segments), silero or energy (see above)
  -h, --help           this help

Files in REPORT_DIR: hyp.<tgt> and hyp.<src> (one line per YAML segment, or per talk with an automatic
segmentation), talks.hyp.<tgt>, talks.ref.<tgt>, talks.hyp.<src>, talks.ref.<src> (one line per talk,
what the talk-level scores score), segments.json (automatic segmentations: each talk's segments with
times and text), report.json, report.md.

Exit status: 0 when every segment was translated, 1 when some talk's audio could not be read or some
YAML segment lies outside its talk's audio (it starts at or past the end, or ends more than ${END_TOLERANCE_SECONDS} s past
it): those segments are scored as empty, the others as usual, and each failure is listed under
"failures" (a segment with its YAML file and line) and on stderr.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        ...stringFlags("mustc", "pair", "split", "beam", "blank-penalty", "batch", "threads", "segment"),
        model: { type: "string", short: "m" },
        output: { type: "string", short: "o" },
        json: { type: "boolean" },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  if (v.mustc === undefined || v.pair === undefined || v.split === undefined) throw new UsageError(`--mustc, --pair and --split are required\n\n${USAGE}`);
  const [src, tgt] = parsePair(v.pair);
  const outDir = v.output ?? `nast-eval-${v.pair}-${v.split}`;
  const segment = v.segment ?? "oracle";
  if (!(SEGMENTATIONS as readonly string[]).includes(segment)) throw new UsageError(`--segment: unknown segmentation '${segment}' (use ${SEGMENTATIONS.join(", ")})`);
  const { report, hyps, srcHyps, talks, segments } = await evaluateMustc({
    root: v.mustc,
    pair: v.pair,
    split: v.split,
    modelDir: v.model,
    beam: intFlag(v.beam, "--beam", 0),
    blankPenalty: numberFlag(v["blank-penalty"], "--blank-penalty"),
    batchSize: intFlag(v.batch, "--batch", 1),
    threads: intFlag(v.threads, "--threads", 1),
    segment: segment as Segmentation,
    warn: (message) => void process.stderr.write(`nast eval: warning: ${message}\n`),
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `hyp.${tgt}`), hyps.map((h) => `${h}\n`).join(""));
  writeFileSync(join(outDir, `hyp.${src}`), srcHyps.map((h) => `${h}\n`).join(""));
  const lines = (xs: string[]): string => xs.map((x) => `${x}\n`).join("");
  writeFileSync(join(outDir, `talks.hyp.${tgt}`), lines(talks.map((t) => t.hyp)));
  writeFileSync(join(outDir, `talks.ref.${tgt}`), lines(talks.map((t) => t.ref)));
  writeFileSync(join(outDir, `talks.hyp.${src}`), lines(talks.map((t) => t.srcHyp)));
  writeFileSync(join(outDir, `talks.ref.${src}`), lines(talks.map((t) => t.srcRef)));
  if (segments) writeFileSync(join(outDir, "segments.json"), `${JSON.stringify(segments, null, 2)}\n`);
  else rmSync(join(outDir, "segments.json"), { force: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = reportMarkdown(report);
  writeFileSync(join(outDir, "report.json"), json);
  writeFileSync(join(outDir, "report.md"), md);
  process.stdout.write(v.json ? json : md);
  for (const f of report.failures) {
    const scored = f.line !== undefined ? (report.scoring === "segment" ? "scored as empty" : "its reference is still part of the talk's") : `${f.segments} segments of ${f.talk} scored as empty`;
    process.stderr.write(`nast eval: ${f.error} (${scored})\n`);
  }
  return report.failures.length === 0 ? 0 : 1;
}
