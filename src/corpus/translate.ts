// English → Spanish by Debian's apertium (apertium-eng-spa), many sentences per process.
// In apertium's plain-text format a single newline is only white space, so the rule-based transfer can
// move words across line ends (measured: "...on the mat\nDr. Smith" came back as "...en el Dr.\nmate
// Smith"). Each sentence is therefore sent as its own paragraph followed by a numbered marker
// paragraph; the markers pass through untranslated and let every output be matched to its input.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPool, runProcess } from "./process.ts";

/** apertium's marks for unknown (*), ungenerated (#) and untranslated-lemma (@) words. */
export function stripApertiumMarks(text: string): string {
  return text
    .replace(/(^|[\s("'¿¡])[*#@]+(?=[\p{L}\p{N}])/gu, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

const marker = (i: number) => `@@${i}@@`;

/** Runs one apertium process over `sentences`; returns translations in the same order. */
export async function apertiumBatch(sentences: readonly string[], pair = "eng-spa", bin = "apertium"): Promise<string[]> {
  const input = sentences.map((s, i) => `${s}\n\n${marker(i)}\n\n`).join("");
  // A file, not stdin: apertium's shell script opens /dev/stdin, which fails when stdin is a socket
  // (as Node's child-process pipes are), printing only apertium-destxt's usage.
  const dir = mkdtempSync(join(tmpdir(), "nast-apertium-"));
  let output: string;
  try {
    const file = join(dir, "in.txt");
    writeFileSync(file, input);
    output = await runProcess(bin, ["-u", pair, file], "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result: string[] = new Array(sentences.length);
  let chunk: string[] = [];
  let next = 0;
  for (const line of output.split("\n")) {
    const m = /^\s*@@(\d+)@@\s*$/.exec(line);
    if (m) {
      const i = Number(m[1]);
      if (i !== next) throw new Error(`apertium ${pair}: output out of step (marker ${i}, expected ${next})`);
      result[i] = stripApertiumMarks(chunk.join(" "));
      chunk = [];
      next++;
    } else if (line.trim()) {
      chunk.push(line);
    }
  }
  if (next !== sentences.length) {
    throw new Error(`apertium ${pair}: returned ${next} of ${sentences.length} sentences; is apertium-eng-spa installed?`);
  }
  result.forEach((t, i) => {
    if (!t) throw new Error(`apertium ${pair}: empty translation for sentence ${i}: ${sentences[i]}`);
  });
  return result;
}

/**
 * Translates all sentences with `jobs` apertium processes at a time, in batches of `batchSize`
 * (apertium's pipeline of 8-10 processes starts in ~0.3 s, so batches amortise it).
 */
export async function translateAll(
  sentences: readonly string[],
  opts: { jobs: number; batchSize?: number; pair?: string; onBatch?: (done: number) => void },
): Promise<string[]> {
  const batchSize = opts.batchSize ?? 2000;
  const out: string[] = new Array(sentences.length);
  const starts: number[] = [];
  for (let i = 0; i < sentences.length; i += batchSize) starts.push(i);
  let done = 0;
  await runPool(starts, opts.jobs, async (start) => {
    const batch = sentences.slice(start, start + batchSize);
    const translated = await apertiumBatch(batch, opts.pair);
    translated.forEach((t, k) => (out[start + k] = t));
    done += batch.length;
    opts.onBatch?.(done);
  });
  return out;
}
