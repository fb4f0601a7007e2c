// `nast prep`: prepares a MuST-C-layout corpus for training (src/data/prep.ts).
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { prepareMustc, SPM_MODEL } from "../data/prep.ts";
import { UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast prep --mustc ROOT [--mustc ROOT2 ...] --pair en-es -o DATA_DIR [options]

Builds DATA_DIR/${SPM_MODEL} (shared unigram SentencePiece over the train transcripts and
translations; ids: 0=<s> is the CTC blank, 1=<pad>, 2=</s>, 3=<unk>) and, per split,
DATA_DIR/<split>/{feats.bin,index.json,COMPLETE}: 80-bin Kaldi fbank of every segment plus texts
and token ids. Interrupted runs resume where they stopped.

options:
  --mustc ROOT        MuST-C root (holds <pair>/data/<split>/{wav,txt}); repeat it to prepare several
                      corpora as one (each split = that split of every root that has it; talk names
                      must differ between roots), e.g. a synthetic and a real-speech corpus
  --pair SRC-TGT      language pair, e.g. en-es
  -o, --out DATA_DIR  output directory
  --vocab N           SentencePiece vocabulary size (default 10000, as the reference recipe)
  --spm MODEL         use this SentencePiece model instead of training one
  --targets FILE      translations replacing the train split's, one line per YAML segment in its order
                      (sequence-level distillation: the hyp file of nast eval --split train -m AR_MODEL
                      --beam 5); pass the --spm of the original DATA_DIR so that token ids stay the same
  --splits LIST       comma-separated splits (default train,dev,tst-COMMON)
  --fp16              store features as float16 (half the disk; default float32)
  --jobs N            worker threads (default: number of cores)
  --min-frames N      drop utterances shorter than N frames (default 5)
  --max-frames N      drop train utterances longer than N frames (default 3000 = 30 s)
  --log FILE          JSON-lines log (default DATA_DIR/prep.log.jsonl)
  -h, --help          this help
`;

function intFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        mustc: { type: "string", multiple: true },
        ...stringFlags("pair", "vocab", "spm", "targets", "splits", "jobs"),
        ...stringFlags("min-frames", "max-frames", "log"),
        out: { type: "string", short: "o" },
        fp16: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.mustc?.length || !values.pair || !values.out) throw new UsageError(`--mustc, --pair and -o are required\n\n${USAGE}`);
  const splits = (values.splits ?? "train,dev,tst-COMMON").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (splits.length === 0) throw new UsageError("--splits is empty");
  if (values.targets !== undefined && !splits.includes("train")) throw new UsageError("--targets replaces the train split's translations: --splits must include train");
  const out = values.out;
  const log = new JsonLogger(values.log ?? join(out, "prep.log.jsonl"));
  const t0 = performance.now();
  const summary = await prepareMustc({
    mustc: values.mustc,
    pair: values.pair,
    out,
    splits,
    vocabSize: intFlag("vocab", values.vocab, 10000, 8),
    ...(values.spm !== undefined ? { spm: values.spm } : {}),
    ...(values.targets !== undefined ? { targets: values.targets } : {}),
    dtype: values.fp16 ? "float16" : "float32",
    jobs: intFlag("jobs", values.jobs, availableParallelism(), 1),
    minFrames: intFlag("min-frames", values["min-frames"], 5, 0),
    maxFrames: intFlag("max-frames", values["max-frames"], 3000, 1),
    log,
    say: (line) => process.stdout.write(`${line}\n`),
  });
  for (const s of summary.splits) {
    const f = s.filtered;
    process.stdout.write(
      `${s.split}: ${s.utterances} utterances, ${s.hours >= 1 ? `${s.hours.toFixed(2)} h` : `${(s.hours * 60).toFixed(1)} min`}; filtered ${f.tooShort} < min frames, ${f.tooLong} > max frames, ${f.emptyTarget} empty targets; ` +
        `${s.talksComputed} talks computed in ${s.seconds.toFixed(1)} s${s.failedTalks.length > 0 ? `; ${s.failedTalks.length} talks FAILED` : ""}\n`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  if (summary.errors.length > 0) {
    process.stderr.write(`nast prep: ${summary.errors.length} input(s) failed; the rest is prepared:\n`);
    for (const e of summary.errors) process.stderr.write(`  ${e}\n`);
    process.stderr.write("Fix them and re-run the same command: finished talks are kept.\n");
    return 1;
  }
  process.stdout.write(`done in ${seconds.toFixed(1)} s → ${out}\n`);
  return 0;
}
