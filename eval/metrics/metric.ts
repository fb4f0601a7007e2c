// What every metric provides, following sacreBLEU's design (metrics/base.py): per-segment sufficient
// statistics that sum over a corpus, a score computed from summed statistics, and a signature. Corpus
// scores, sentence scores and bootstrap resampling all reuse the same statistics.
import type { Score } from "./score.ts";
import type { Signature } from "./signature.ts";

/**
 * References in sacreBLEU's corpus layout: refs[k][i] is the k-th reference of segment i (one array per
 * reference "stream", e.g. per reference file). A null entry means segment i has fewer references
 * (the signature then says nrefs:var).
 */
export type ReferenceStreams = readonly (readonly (string | null)[])[];

export interface Metric<RefInfo = unknown> {
  /** Pre-processes and analyses the references of one segment (n-grams, tokens). */
  referenceInfo(refs: string[]): RefInfo;
  /** Sufficient statistics of one hypothesis against its analysed references. */
  segmentStatistics(hyp: string, refInfo: RefInfo): number[];
  /** The score from statistics summed over segments. */
  scoreFromStatistics(stats: readonly number[], signature: Signature): Score;
  /**
   * The score sacreBLEU's bootstrap computes from resampled statistics, which numpy holds as float32
   * (see numpy-float32.ts); `resampledFloat32` says whether that score itself is a float32.
   */
  resampledScore(stats: readonly number[]): number;
  readonly resampledFloat32: boolean;
  /** The signature for a given number of references per segment. */
  signature(nrefs: number | "var"): Signature;
  /** The length of one segment's statistics vector. */
  readonly statisticsSize: number;
  /** BLEU warns when many hypotheses look tokenized (sacreBLEU's `force`); other metrics never do. */
  readonly checksTokenizedInput?: boolean;
}

export interface CorpusStatistics {
  stats: number[][];
  nrefs: number | "var";
}

/** Sums per-segment statistics (sacreBLEU utils.sum_of_lists). */
export function sumStatistics(stats: readonly (readonly number[])[], width: number): number[] {
  const total = new Array<number>(width).fill(0);
  for (const row of stats) for (let j = 0; j < width; j++) total[j] += row[j] as number;
  return total;
}

/** Checks that every reference stream has one line per hypothesis. */
export function checkLengths(hyps: readonly string[], refs: ReferenceStreams): void {
  if (refs.length === 0) throw new Error("no references given");
  refs.forEach((stream, k) => {
    if (stream.length !== hyps.length) {
      throw new Error(
        `reference stream ${k + 1} has ${stream.length} segments but there are ${hyps.length} hypotheses`,
      );
    }
  });
}

/** The references of segment i (sacreBLEU drops None entries, allowing a variable number per segment). */
function segmentReferences(refs: ReferenceStreams, i: number): string[] {
  const lines: string[] = [];
  for (const stream of refs) {
    const line = stream[i];
    if (line !== null && line !== undefined) lines.push(line);
  }
  return lines;
}

/** How many hypotheses end in " ." before BLEU warns that the input looks tokenized (sacreBLEU base.py). */
const TOKENIZED_WARNING_LINES = 100;

export interface StatisticsOptions {
  /** Receives warnings (sacreBLEU logs them); default: stderr. */
  warn?: (message: string) => void;
}

export function corpusStatistics<R>(
  metric: Metric<R>,
  hyps: readonly string[],
  refs: ReferenceStreams,
  options: StatisticsOptions = {},
): CorpusStatistics {
  checkLengths(hyps, refs);
  // One segment at a time: keeping every segment's reference n-grams alive at once (as sacreBLEU's cache does)
  // makes the garbage collector dominate the run time in V8.
  const counts = new Set<number>();
  let tokenized = 0;
  const stats = hyps.map((hyp, i) => {
    const lines = segmentReferences(refs, i);
    counts.add(lines.length);
    if (metric.checksTokenizedInput && hyp.endsWith(" .")) tokenized++;
    return metric.segmentStatistics(hyp, metric.referenceInfo(lines));
  });
  const nrefs = counts.size === 0 ? refs.length : counts.size === 1 ? (counts.values().next().value as number) : "var";
  if (tokenized >= TOKENIZED_WARNING_LINES) {
    const warn = options.warn ?? ((m: string) => process.stderr.write(`sacreBLEU: ${m}\n`));
    warn("That's 100 lines that end in a tokenized period ('.')");
    warn("It looks like you forgot to detokenize your test data, which may hurt your score.");
    warn("If you insist your data is detokenized, or don't care, you can suppress this message with the `force` parameter.");
  }
  return { stats, nrefs };
}

/** Corpus score of a metric: statistics per segment, summed, scored. */
export function corpusScore<R>(
  metric: Metric<R>,
  hyps: readonly string[],
  refs: ReferenceStreams,
  options: StatisticsOptions = {},
): Score {
  const { stats, nrefs } = corpusStatistics(metric, hyps, refs, options);
  return metric.scoreFromStatistics(sumStatistics(stats, metric.statisticsSize), metric.signature(nrefs));
}

/** Sentence score: one hypothesis against its references (sacreBLEU Metric.sentence_score). */
export function sentenceScore<R>(metric: Metric<R>, hyp: string, refs: readonly string[]): Score {
  return corpusScore(metric, [hyp], refs.map((r) => [r]));
}
