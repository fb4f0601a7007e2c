// `nast eval`: translate and score a split in MuST-C layout (eval/harness/mustc-eval.ts); writes the
// hypotheses, report.json and report.md, and prints the Markdown report (or the JSON with --json).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { evaluateMustc, reportMarkdown } from "../../eval/harness/mustc-eval.ts";
import { parsePair } from "../data/mustc.ts";
import { UsageError } from "../util/errors.ts";
import { intFlag, parseFlags } from "./args.ts";

const USAGE = `usage: nast eval --mustc ROOT --pair en-es --split tst-COMMON [-m MODEL_DIR] [-o REPORT_DIR] [--json]
                 [--beam N] [--batch N] [--threads N]

Translates every segment of ROOT/<pair>/data/<split> (MuST-C layout: wav/, txt/<split>.yaml, .<src>, .<tgt>)
and scores it: BLEU, chrF2 and TER with sacreBLEU signatures against .<tgt>, source WER of the source CTC
transcript against .<src>, wall time, real-time factor and segments per second.

options:
      --mustc ROOT     corpus root in MuST-C layout
      --pair P         language pair, e.g. en-es
      --split S        split, e.g. tst-COMMON or dev
  -m, --model DIR      model package (default: models/default of this package)
  -o, --output DIR     where hyp.<tgt>, hyp.<src>, report.json and report.md go (default: nast-eval-<pair>-<split>)
      --json           print report.json instead of report.md
      --beam N         CTC prefix beam search with N beams (default 0: greedy)
      --batch N        segments per network batch (default 8)
      --threads N      onnxruntime threads (default: all cores)
  -h, --help           this help

Exit status: 0 when every segment was translated, 1 when some talk's audio could not be read (its
segments are scored as empty and listed under "failures").
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        mustc: { type: "string" },
        pair: { type: "string" },
        split: { type: "string" },
        model: { type: "string", short: "m" },
        output: { type: "string", short: "o" },
        json: { type: "boolean" },
        beam: { type: "string" },
        batch: { type: "string" },
        threads: { type: "string" },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  if (v.mustc === undefined || v.pair === undefined || v.split === undefined) throw new UsageError(`--mustc, --pair and --split are required\n\n${USAGE}`);
  const [src, tgt] = parsePair(v.pair);
  const outDir = v.output ?? `nast-eval-${v.pair}-${v.split}`;
  const { report, hyps, srcHyps } = await evaluateMustc({
    root: v.mustc,
    pair: v.pair,
    split: v.split,
    modelDir: v.model,
    beam: intFlag(v.beam, "--beam", 0),
    batchSize: intFlag(v.batch, "--batch", 1),
    threads: intFlag(v.threads, "--threads", 1),
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `hyp.${tgt}`), hyps.map((h) => `${h}\n`).join(""));
  writeFileSync(join(outDir, `hyp.${src}`), srcHyps.map((h) => `${h}\n`).join(""));
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = reportMarkdown(report);
  writeFileSync(join(outDir, "report.json"), json);
  writeFileSync(join(outDir, "report.md"), md);
  process.stdout.write(v.json ? json : md);
  for (const f of report.failures) process.stderr.write(`nast eval: ${f.error} (${f.segments} segments of ${f.talk} scored as empty)\n`);
  return report.failures.length === 0 ? 0 : 1;
}
