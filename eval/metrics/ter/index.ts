// TER (Snover et al., 2006) as sacreBLEU 2.6.0 computes it (metrics/ter.py; docs/design.md §7.4): per segment the
// fewest edits over the references and the AVERAGE reference length; corpus TER = 100 · Σedits / Σavg_ref_len.
import { type Metric, type ReferenceStreams, type StatisticsOptions, corpusScore, sentenceScore } from "../metric.ts";
import { pyRstrip, pySplit } from "../python.ts";
import { div, f32, mul, py } from "../numpy-float32.ts";
import { Score } from "../score.ts";
import { Signature } from "../signature.ts";
import { translationEditRate } from "./edit-rate.ts";
import { type TerTokenizerOptions, terTokenize } from "./tokenizer.ts";

export type TerOptions = TerTokenizerOptions;

export class TerScore extends Score {
  constructor(
    score: number,
    signature: Signature,
    readonly numEdits: number,
    readonly refLength: number,
  ) {
    super("TER", score, signature);
  }
}

export class Ter implements Metric<string[][]> {
  readonly statisticsSize = 2;
  readonly options: Required<TerOptions>;

  constructor(options: TerOptions = {}) {
    this.options = {
      normalized: options.normalized ?? false,
      noPunct: options.noPunct ?? false,
      asianSupport: options.asianSupport ?? false,
      caseSensitive: options.caseSensitive ?? false,
    };
  }

  /** sacreBLEU TER._preprocess_segment. */
  private preprocess(sentence: string): string {
    return terTokenize(pyRstrip(sentence), this.options);
  }

  words(sentence: string): string[] {
    return pySplit(this.preprocess(sentence));
  }

  /**
   * References are pre-processed TWICE in sacreBLEU 2.6.0 (Metric._cache_references pre-processes, then
   * TER._extract_reference_info pre-processes again). Tokenizing twice is not idempotent under --ter-normalized:
   * "haben's's" becomes "haben's 's" then "haben 's 's", and "&amp;lt;" becomes "<". We do the same.
   */
  referenceInfo(refs: string[]): string[][] {
    return refs.map((ref) => this.words(this.preprocess(ref)));
  }

  segmentStatistics(hyp: string, refs: string[][]): number[] {
    const words = this.words(hyp);
    let refLengths = 0;
    let best = 1e16;
    for (const ref of refs) {
      const { edits, refLength } = translationEditRate(words, ref);
      refLengths += refLength;
      if (edits < best) best = edits;
    }
    return [best, refLengths / refs.length];
  }

  scoreFromStatistics(stats: readonly number[], signature: Signature): TerScore {
    const edits = stats[0] as number;
    const refLength = stats[1] as number;
    let score: number;
    if (refLength > 0) score = edits / refLength;
    else if (edits > 0) score = 1.0; // empty reference(s), non-empty hypothesis
    else score = 0.0; // both empty
    return new TerScore(100 * score, signature, Math.trunc(edits), refLength);
  }

  readonly resampledFloat32 = true;

  /** _compute_score_from_stats on float32 statistics, as numpy evaluates it. */
  resampledScore(stats: readonly number[]): number {
    const edits = f32(stats[0] as number);
    const refLength = f32(stats[1] as number);
    const score = refLength.v > 0 ? div(edits, refLength) : py(edits.v > 0 ? 1.0 : 0.0);
    return mul(py(100), score).v;
  }

  signature(nrefs: number | "var"): Signature {
    return new Signature(nrefs, [
      ["case", "c", this.options.caseSensitive ? "mixed" : "lc"],
      ["tok", "t", "tercom"],
      ["norm", "nr", this.options.normalized],
      ["punct", "pn", !this.options.noPunct],
      ["asian", "as", this.options.asianSupport],
    ]);
  }
}

export function corpusTer(
  hyps: readonly string[],
  refs: ReferenceStreams,
  options: TerOptions = {},
  statsOptions: StatisticsOptions = {},
): TerScore {
  return corpusScore(new Ter(options), hyps, refs, statsOptions) as TerScore;
}

export function sentenceTer(hyp: string, refs: readonly string[], options: TerOptions = {}): TerScore {
  return sentenceScore(new Ter(options), hyp, refs) as TerScore;
}

export { terTokenize, translationEditRate };
