// `nast plot EXP_DIR [-o PNG]`: the training curves (loss terms, dev BLEU, learning rate) of an experiment,
// read from EXP_DIR/train.log.jsonl, as a PNG image (default EXP_DIR/curves.png).
import { join } from "node:path";
import { parseFlags } from "./args.ts";
import { UsageError } from "../util/errors.ts";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { panelsFromLog, readJsonLines, renderPanels } from "../train/plot.ts";

const USAGE = `usage: nast plot EXP_DIR [-o PNG] [--width PX]

  Renders EXP_DIR/train.log.jsonl (written by nast train) to a PNG: the loss terms, dev BLEU and the
  learning rate against the update step. Default output: EXP_DIR/curves.png.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      width: { type: "string", default: "1200" },
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const expDir = positionals[0];
  if (positionals.length !== 1 || expDir === undefined) throw new UsageError(`expected one EXP_DIR\n\n${USAGE}`);
  const width = Number(values.width);
  if (!Number.isInteger(width) || width < 400 || width > 8000) throw new UsageError("--width must be an integer in 400..8000");
  const records = readJsonLines(join(expDir, "train.log.jsonl"));
  const out = values.output ?? join(expDir, "curves.png");
  writeFileAtomic(out, renderPanels(panelsFromLog(records), width));
  process.stderr.write(`nast plot: wrote ${out}\n`);
  return 0;
}
