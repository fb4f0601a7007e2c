// `nast average EXP_DIR [--best N | --last N] -o CKPT`: the mean of an experiment's best N checkpoints by dev
// BLEU (the reference recipe averages the 10 best, docs/model.md §5.5) or its last N. Pure TypeScript: needs
// no libtorch. Logs the exact list of files it averages, as icefall does (docs/design.md §8).
import { parseFlags, stringFlags } from "./args.ts";
import { UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { averageCheckpoints, bestCheckpoints, listCheckpoints } from "../train/checkpoint.ts";
import { writeSafetensors } from "../formats/safetensors.ts";

const USAGE = `usage: nast average EXP_DIR [--best N | --last N] -o CKPT

  Averages checkpoints of EXP_DIR/checkpoints into one safetensors file (same format as a checkpoint,
  readable by \`nast export\`).

  --best N    the N checkpoints with the highest dev BLEU (default: 10)
  --last N    the N most recent checkpoints instead
  -o CKPT     output file, e.g. EXP_DIR/avg-best10.safetensors
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      ...stringFlags("best", "last"),
      output: { type: "string", short: "o" },
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const expDir = positionals[0];
  if (positionals.length !== 1 || expDir === undefined) throw new UsageError(`expected one EXP_DIR\n\n${USAGE}`);
  if (!values.output) throw new UsageError(`-o CKPT is required\n\n${USAGE}`);
  if (values.best !== undefined && values.last !== undefined) throw new UsageError("give --best N or --last N, not both");
  const n = Number(values.last ?? values.best ?? "10");
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${values.last !== undefined ? "last" : "best"} must be a positive integer`);

  const all = listCheckpoints(expDir);
  if (all.length === 0) throw new UsageError(`no checkpoints in ${expDir}/checkpoints (train first: nast train ... -o ${expDir})`);
  const chosen = values.last !== undefined ? all.slice(-n) : bestCheckpoints(all, n);
  if (chosen.length === 0) {
    throw new UsageError(`no checkpoint in ${expDir} has a dev BLEU (validation never ran); use --last ${n}`);
  }
  if (chosen.length < n) {
    process.stderr.write(`nast average: only ${chosen.length} checkpoints available, averaging those (asked for ${n})\n`);
  }
  const { tensors, metadata } = averageCheckpoints(chosen.map((c) => c.path));
  writeSafetensors(values.output, tensors, metadata);
  new JsonLogger(undefined, process.stderr).log("average", {
    output: values.output,
    selection: values.last !== undefined ? `last${n}` : `best${n}`,
    checkpoints: chosen.map((c) => ({ path: c.path, step: c.step, devBleu: c.devBleu })),
  });
  return 0;
}
