// The text side of the synthetic corpus: which English sentences, in which split, and their
// translations. It is computed once (apertium runs here) and can be saved as a TSV
// (id, split, english, translation) that the speech side reads, e.g. on a GPU host without apertium.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../formats/atomic-file.ts";
import { InputError } from "../util/errors.ts";
import { Rng } from "./rng.ts";
import { dedupe } from "./sentences.ts";
import type { SentencePool } from "./text-sources.ts";
import { translateAll } from "./translate.ts";

export const trainSplit = "train";
export const devSplit = "dev";
export const testSplit = "tst-COMMON";
export type TextSplit = typeof trainSplit | typeof devSplit | typeof testSplit;
const textSplits: readonly string[] = [trainSplit, devSplit, testSplit];

export interface CorpusEntry {
  id: number;
  split: TextSplit;
  en: string;
  tgt: string;
}

/** Language pairs and the apertium mode that translates them. */
export const apertiumModes: Record<string, string> = { "en-es": "eng-spa" };

/**
 * Rough speaking time of a sentence at espeak-ng's default rate, for sizing a corpus in hours before
 * synthesis: measured on this corpus's sentences, ~14 characters per second plus a short edge silence.
 */
export function estimateSeconds(sentence: string): number {
  return sentence.length / 14 + 0.25;
}

/** Mean pause between segments added by the talk builder (src/corpus/talks.ts), for the estimate. */
export const meanPauseSeconds = 0.5;

/**
 * Chooses sentences deterministically for a seed: real sentences (fortunes, WordNet examples, the user's
 * text) before definitions made into sentences, each group in seeded random order; takes sentences until
 * `hours` of estimated speech (or `count` sentences) are reached. Then the test and dev sets are cut
 * from the real sentences, the rest is train; the three sets are disjoint by dedupe key.
 */
export function selectSentences(
  pools: readonly SentencePool[],
  opts: { seed: number; hours?: number; count?: number; devSize?: number; testSize?: number },
): { split: TextSplit; en: string }[] {
  const rng = Rng.derive(opts.seed, "sentences");
  const seen = new Set<string>();
  const real = rng.shuffle(dedupe(pools.filter((p) => p.kind === "sentence").flatMap((p) => p.sentences), seen));
  const defs = rng.shuffle(dedupe(pools.filter((p) => p.kind === "definition").flatMap((p) => p.sentences), seen));
  const ordered = [...real, ...defs];
  let n = ordered.length;
  if (opts.count !== undefined) n = Math.min(n, opts.count);
  else if (opts.hours !== undefined) {
    const target = opts.hours * 3600;
    let total = 0;
    n = 0;
    while (n < ordered.length && total < target) total += estimateSeconds(ordered[n++]!) + meanPauseSeconds;
  }
  const chosen = ordered.slice(0, n);
  // dev and tst-COMMON: ~4% each, at least 3 sentences, at most 500 (enough for a stable BLEU; MuST-C
  // en-es has 1,316 and 2,502), taken only from real sentences so that they test real sentences.
  const heldSize = Math.min(500, Math.max(3, Math.round(n * 0.04)));
  const testSize = opts.testSize ?? heldSize;
  const devSize = opts.devSize ?? heldSize;
  if (n < testSize + devSize + 1) {
    throw new Error(`only ${n} sentences: need more than ${testSize + devSize} for dev, tst-COMMON and train; give more text or hours`);
  }
  return chosen.map((en, i) => ({ en, split: i < testSize ? testSplit : i < testSize + devSize ? devSplit : trainSplit }));
}

/** Translates the chosen sentences with apertium and numbers them. */
export async function translateSelection(
  chosen: readonly { split: TextSplit; en: string }[],
  opts: { pair: string; jobs: number; onProgress?: (done: number) => void },
): Promise<CorpusEntry[]> {
  const mode = apertiumModes[opts.pair];
  if (mode === undefined) throw new Error(`pair ${opts.pair}: not supported (supported: ${Object.keys(apertiumModes).join(", ")})`);
  const tgt = await translateAll(
    chosen.map((c) => c.en),
    { jobs: opts.jobs, pair: mode, onBatch: opts.onProgress },
  );
  return chosen.map((c, i) => ({ id: i, split: c.split, en: c.en, tgt: tgt[i]! }));
}

export function tsvHeader(pair: string): string {
  const [src, tgt] = pair.split("-");
  return `id\tsplit\t${src}\t${tgt}`;
}

/** Writes the TSV atomically (src/formats/atomic-file.ts). */
export function writeCorpusTsv(path: string, pair: string, entries: readonly CorpusEntry[]): void {
  const lines = [tsvHeader(pair), ...entries.map((e) => `${e.id}\t${e.split}\t${e.en}\t${e.tgt}`)];
  writeFileAtomic(path, lines.join("\n") + "\n");
}

/** Reads a TSV written by writeCorpusTsv; names the line of any malformed row. */
export function readCorpusTsv(path: string): { pair: string; entries: CorpusEntry[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(path, `cannot read: ${(err as Error).message}`);
  }
  const lines = text.split("\n");
  const header = /^id\tsplit\t([a-z]{2,3})\t([a-z]{2,3})$/.exec(lines[0] ?? "");
  if (!header) throw new InputError(path, "line 1: expected the header 'id<TAB>split<TAB>en<TAB>es' of `nast corpus text`");
  const entries: CorpusEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const f = line.split("\t");
    if (f.length !== 4 || !/^\d+$/.test(f[0]!) || !textSplits.includes(f[1]!) || !f[2] || !f[3]) {
      throw new InputError(path, `line ${i + 1}: expected id, split (${textSplits.join("|")}), source and target separated by tabs`);
    }
    entries.push({ id: Number(f[0]), split: f[1] as TextSplit, en: f[2], tgt: f[3] });
  }
  if (entries.length === 0) throw new InputError(path, "holds no sentences");
  return { pair: `${header[1]}-${header[2]}`, entries };
}
