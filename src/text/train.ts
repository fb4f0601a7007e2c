// Trains a shared source+target SentencePiece unigram model with Debian's `spm_train` (package
// `sentencepiece`), as the reference recipe does (docs/model.md §2.1: one vocabulary over the English
// transcripts and the translations; the options of gen_vocab in fairseq's examples/speech_to_text/data_utils.py,
// docs/design.md §7.3).
import { spawn } from "node:child_process";
import { renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { SentencePiece } from "./sentencepiece.ts";

export interface TrainOptions {
  /** Text files, one sentence per line (source and target of the train split). */
  inputs: string[];
  /** Where the model goes (written atomically: a temporary prefix, then a rename). */
  modelPath: string;
  vocabSize: number;
  threads?: number;
  /** Extra spm_train flags, e.g. ["--byte_fallback=true"]. */
  extraArgs?: string[];
}

/**
 * The id layout (see src/text/sentencepiece.ts): fairseq's <s>=0, <pad>=1, </s>=2, <unk>=3, so that
 * id 0 is the CTC blank and our ids equal fairseq dictionary indices.
 */
export const ID_LAYOUT_ARGS = ["--bos_id=0", "--pad_id=1", "--eos_id=2", "--unk_id=3"];

export class SpmTrainError extends Error {
  override name = "SpmTrainError";
}

export async function trainSentencePiece(opts: TrainOptions): Promise<SentencePiece> {
  const prefix = join(dirname(opts.modelPath), `.spm-train-${process.pid}`);
  const args = [
    `--input=${opts.inputs.join(",")}`,
    `--model_prefix=${prefix}`,
    "--model_type=unigram",
    `--vocab_size=${opts.vocabSize}`,
    "--character_coverage=1.0",
    // A soft limit: a small corpus may not support the requested size; the trained size is reported.
    "--hard_vocab_limit=false",
    `--num_threads=${opts.threads ?? 1}`,
    ...ID_LAYOUT_ARGS,
    ...(opts.extraArgs ?? []),
  ];
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const child = spawn("spm_train", args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      out += d;
      if (out.length > 200_000) out = out.slice(-100_000);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      reject(
        new SpmTrainError(
          err.code === "ENOENT"
            ? "spm_train not found: install Debian's `sentencepiece` package (apt-get install sentencepiece)"
            : `spm_train failed to start: ${err.message}`,
        ),
      );
    });
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        const tail = out.trim().split("\n").slice(-5).join("\n");
        reject(new SpmTrainError(`spm_train exited with code ${code} on ${opts.inputs.join(", ")}:\n${tail}`));
      }
    });
  });
  renameSync(`${prefix}.model`, opts.modelPath);
  rmSync(`${prefix}.vocab`, { force: true });
  return SentencePiece.load(opts.modelPath);
}
