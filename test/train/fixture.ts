// Small real training data for the trainer tests: a synthetic corpus spoken by espeak-ng (`nast corpus synth`)
// and prepared by `nast prep` (fbank feature stores + SentencePiece), built in a temporary directory.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNast } from "../helpers/cli.ts";

export const REPO = new URL("../..", import.meta.url).pathname;

/** Runs `nast ARGS` from the source tree; throws with its output on a non-zero exit. */
export function nast(args: string[], opts: { allowFail?: boolean } = {}): { status: number; stdout: string; stderr: string } {
  const r = runNast(args);
  const status = r.code;
  if (status !== 0 && !opts.allowFail) throw new Error(`nast ${args.join(" ")} exited with ${status}:\n${r.stderr}\n${r.stdout}`);
  return { status, stdout: r.stdout, stderr: r.stderr };
}

/** Short sentences: short utterances keep CPU steps cheap and let the tiny model memorise them. */
export const SHORT_SENTENCES = [
  "The cat sleeps.", "I like green tea.", "The house is big.", "We eat bread today.", "My brother runs fast.",
  "The sun is hot.", "She reads a book.", "The dog is black.", "They drink cold water.", "He has a red car.",
  "The door is open.", "I see the sea.", "The boy plays ball.", "Our school is small.", "The night is dark.",
  "She sings a song.", "The bird can fly.", "I want more milk.", "The tree is tall.", "We live in town.",
  "The sky is blue.", "He writes a letter.",
];

export interface Data {
  dir: string;
  corpus: string;
  data: string;
}

/**
 * A corpus of `SHORT_SENTENCES` (22 sentences: 16 train, 3 dev, 3 tst-COMMON, one espeak-ng voice family)
 * and its prepared data directory (vocabulary `vocab`).
 */
export function shortCorpus(vocab = 60): Data {
  const dir = mkdtempSync(join(tmpdir(), "nast-train-"));
  const text = join(dir, "sentences.txt");
  writeFileSync(text, SHORT_SENTENCES.join("\n") + "\n");
  const corpus = join(dir, "corpus");
  const data = join(dir, "data");
  nast(["corpus", "synth", "-o", corpus, "--text", text, "--sentences", String(SHORT_SENTENCES.length), "--engines", "espeak", "--no-augment", "--seed", "5"]);
  nast(["prep", "--mustc", corpus, "--pair", "en-es", "-o", data, "--vocab", String(vocab)]);
  return { dir, corpus, data };
}

export interface LogRecord {
  event: string;
  step?: number;
  loss?: number;
  bleu?: number;
  [key: string]: unknown;
}

/** The records of an experiment's train.log.jsonl. */
export function readLog(expDir: string): LogRecord[] {
  return readFileSync(join(expDir, "train.log.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LogRecord);
}

/** The last "train" record of each step (a resumed run logs the steps after its checkpoint again). */
export function lossByStep(records: LogRecord[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of records) if (r.event === "train" && typeof r.step === "number") out.set(r.step, r.loss as number);
  return out;
}
