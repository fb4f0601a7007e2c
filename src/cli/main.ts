// The `nast` command: dispatches to one module per subcommand, loaded only when asked for, so that
// `nast translate` never loads the libtorch binding and `nast score` never loads onnxruntime.
import { UsageError, errorMessage } from "../util/errors.ts";

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const commands: Record<string, Command> = {
  translate: { summary: "translate audio files (any format, any length) to text with timestamps", load: () => import("./translate.ts") },
  serve: { summary: "serve the page that translates in the browser (onnxruntime-web), on 127.0.0.1", load: () => import("./serve.ts") },
  features: { summary: "write the 80-bin Kaldi fbank of an audio file as .npy", load: () => import("./features.ts") },
  corpus: { summary: "corpus tools: `nast corpus synth` builds a synthetic corpus in MuST-C layout", load: () => import("./corpus.ts") },
  prep: { summary: "prepare a MuST-C-layout corpus: feature stores, SentencePiece, tokenized targets", load: () => import("./prep.ts") },
  train: { summary: "train a CTC-NAST model (CPU or CUDA, needs the kernels)", load: () => import("./train.ts") },
  average: { summary: "average the best or last N checkpoints of an experiment", load: () => import("./average.ts") },
  grow: { summary: "a larger model (more layers, wider FFNs) that starts as a trained one, to train on", load: () => import("./grow.ts") },
  export: { summary: "export a checkpoint to an ONNX model package", load: () => import("./export.ts") },
  eval: { summary: "translate and score a MuST-C-layout split (BLEU/chrF/TER, source WER, speed)", load: () => import("./eval.ts") },
  score: { summary: "sacreBLEU-identical BLEU, chrF and TER of hypotheses against references", load: () => import("./score.ts") },
  analyze: { summary: "analyses of a trained model: `nast analyze attention`", load: () => import("./analyze.ts") },
  plot: { summary: "render the training curves of an experiment to a PNG image", load: () => import("./plot.ts") },
  bench: { summary: "benchmarks: `nast bench kernels|infer|train [--json]`", load: () => import("./bench.ts") },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "nast: non-autoregressive speech translation (CTC-NAST + LiSA)",
    "",
    "usage: nast <command> [options]     (nast <command> --help for its options)",
    "",
    ...lines,
    "",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write("nast 0.1.0\n");
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`nast: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

// A reader that stops early (`nast score ... | head`) closes the pipe: that is not an error of ours.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`nast: ${errorMessage(err)}\n`);
    if (process.env.NAST_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
