// chrF (Popović, 2015) and chrF++ (Popović, 2017) exactly as sacreBLEU 2.6.0 computes them
// (metrics/chrf.py, metrics/helpers.py; docs/design.md §7.4). Statistics per order are
// [hyp n-grams, ref n-grams, matches], character orders first, then word orders.
import { type Metric, type ReferenceStreams, type StatisticsOptions, corpusScore, sentenceScore } from "./metric.ts";
import { matches, NgramIds, SymbolIds } from "./ngram-keys.ts";
import { add, div, f32, mul, type Num, py } from "./numpy-float32.ts";
import { pyLen, pyLower, pyRemoveSpaces, pySplit } from "./python.ts";
import { Score } from "./score.ts";
import { Signature } from "./signature.ts";

export interface ChrfOptions {
  /** character n-gram order, default 6 */
  charOrder?: number;
  /** word n-gram order, default 0; 2 gives chrF++ */
  wordOrder?: number;
  /** recall weight, default 2 */
  beta?: number;
  lowercase?: boolean;
  /** keep whitespace inside character n-grams (default: all whitespace removed) */
  whitespace?: boolean;
  /** chrF++.py/NLTK/Moses epsilon smoothing instead of sacreBLEU's effective order (default false) */
  epsSmoothing?: boolean;
}

/** Python's string.punctuation: the 32 ASCII punctuation characters chrF++ splits off words. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** A pre-processed sentence: its code points (for character n-grams) and its chrF++ words. */
interface Prepared {
  chars: number[];
  words: string[];
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i) as number;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}

/**
 * chrF++'s word splitting (sacreBLEU CHRF._remove_punctuation, after m-popovic/chrF): a word longer than one
 * character loses ONE punctuation character, from its end if there is one there, else from its start;
 * '(hi)' becomes '(hi' and ')' (sacreBLEU issue #124, kept for compatibility).
 */
export function chrfWords(sentence: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sentence)) {
    if (pyLen(w) === 1) out.push(w);
    else if (PUNCTUATION.has(w[w.length - 1] as string)) out.push(w.slice(0, -1), w[w.length - 1] as string);
    else if (PUNCTUATION.has(w[0] as string)) out.push(w[0] as string, w.slice(1));
    else out.push(w);
  }
  return out;
}

export class Chrf implements Metric<Prepared[]> {
  readonly charOrder: number;
  readonly wordOrder: number;
  readonly beta: number;
  readonly lowercase: boolean;
  readonly whitespace: boolean;
  readonly epsSmoothing: boolean;
  readonly statisticsSize: number;
  /** chrF{beta} plus one '+' per word order: chrF2, chrF2++. */
  readonly name: string;

  constructor(options: ChrfOptions = {}) {
    this.charOrder = options.charOrder ?? 6;
    this.wordOrder = options.wordOrder ?? 0;
    this.beta = options.beta ?? 2;
    this.lowercase = options.lowercase ?? false;
    this.whitespace = options.whitespace ?? false;
    this.epsSmoothing = options.epsSmoothing ?? false;
    this.statisticsSize = 3 * (this.charOrder + this.wordOrder);
    this.name = `chrF${this.beta}${"+".repeat(this.wordOrder)}`;
  }

  /** Lowercasing (optional) and whitespace removal (unless kept), as sacreBLEU pre-processes for chrF. */
  private prepare(sentence: string): Prepared {
    const s = this.lowercase ? pyLower(sentence) : sentence;
    return {
      chars: codePoints(this.whitespace ? s : pyRemoveSpaces(s)),
      words: this.wordOrder > 0 ? chrfWords(s) : [],
    };
  }

  referenceInfo(refs: string[]): Prepared[] {
    return refs.map((ref) => this.prepare(ref));
  }

  /** Statistics against the reference with the best sentence-level score (first one on ties). */
  segmentStatistics(hyp: string, refs: Prepared[]): number[] {
    const h = this.prepare(hyp);
    const charIds = new SymbolIds<number>();
    const wordIds = new SymbolIds<string>();
    const refSymbols = refs.map((r) => ({ chars: charIds.intern(r.chars), words: wordIds.intern(r.words) }));
    const charNgrams = new NgramIds(charIds.base, this.charOrder);
    const wordNgrams = new NgramIds(wordIds.base, this.wordOrder);
    // n-gram ids per order, character orders then word orders
    const refIds = refSymbols.map((r) => [...charNgrams.ids(r.chars, true), ...wordNgrams.ids(r.words, true)]);
    const hypIds = [...charNgrams.ids(charIds.lookup(h.chars), false), ...wordNgrams.ids(wordIds.lookup(h.words), false)];
    let best: number[] = [];
    let bestF = -1.0;
    for (const ref of refIds) {
      const stats: number[] = [];
      hypIds.forEach((hOrder, order) => {
        const rOrder = ref[order] as number[];
        // No hypothesis n-grams are counted for an order the reference lacks.
        stats.push(rOrder.length > 0 ? hOrder.length : 0, rOrder.length, matches(hOrder, rOrder));
      });
      const f = this.fScore(stats);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    return best;
  }

  /** sacreBLEU CHRF._compute_f_score. */
  fScore(stats: readonly number[]): number {
    const eps = 1e-16;
    const factor = this.beta ** 2;
    const order = this.charOrder + this.wordOrder;
    let score = 0.0;
    let effectiveOrder = 0;
    let avgPrec = 0.0;
    let avgRec = 0.0;
    for (let i = 0; i < order; i++) {
      const nHyp = stats[3 * i] as number;
      const nRef = stats[3 * i + 1] as number;
      const nMatch = stats[3 * i + 2] as number;
      const prec = nHyp > 0 ? nMatch / nHyp : eps;
      const rec = nRef > 0 ? nMatch / nRef : eps;
      const denom = factor * prec + rec;
      score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
      if (nHyp > 0 && nRef > 0) {
        avgPrec += prec;
        avgRec += rec;
        effectiveOrder += 1;
      }
    }
    if (this.epsSmoothing) return (100 * score) / order;
    if (effectiveOrder === 0) {
      avgPrec = 0.0;
      avgRec = 0.0;
    } else {
      avgPrec /= effectiveOrder;
      avgRec /= effectiveOrder;
    }
    if (avgPrec + avgRec) {
      return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
    }
    return 0.0;
  }

  readonly resampledFloat32 = true;

  /** _compute_f_score on float32 statistics, operation by operation as numpy evaluates it. */
  resampledScore(stats: readonly number[]): number {
    const eps = py(1e-16);
    const factor = py(this.beta ** 2);
    const order = this.charOrder + this.wordOrder;
    let score: Num = py(0);
    let effectiveOrder = 0;
    let avgPrec: Num = py(0);
    let avgRec: Num = py(0);
    for (let i = 0; i < order; i++) {
      const nHyp = f32(stats[3 * i] as number);
      const nRef = f32(stats[3 * i + 1] as number);
      const nMatch = f32(stats[3 * i + 2] as number);
      const prec = nHyp.v > 0 ? div(nMatch, nHyp) : eps;
      const rec = nRef.v > 0 ? div(nMatch, nRef) : eps;
      const denom = add(mul(factor, prec), rec);
      score = add(score, denom.v > 0 ? div(mul(mul(add(py(1), factor), prec), rec), denom) : eps);
      if (nHyp.v > 0 && nRef.v > 0) {
        avgPrec = add(avgPrec, prec);
        avgRec = add(avgRec, rec);
        effectiveOrder += 1;
      }
    }
    if (this.epsSmoothing) return div(mul(py(100), score), py(order)).v;
    if (effectiveOrder === 0) {
      avgPrec = py(0);
      avgRec = py(0);
    } else {
      avgPrec = div(avgPrec, py(effectiveOrder));
      avgRec = div(avgRec, py(effectiveOrder));
    }
    if (add(avgPrec, avgRec).v) {
      const s = div(mul(mul(add(py(1), factor), avgPrec), avgRec), add(mul(factor, avgPrec), avgRec));
      return mul(py(100), s).v;
    }
    return 0.0;
  }

  scoreFromStatistics(stats: readonly number[], signature: Signature): Score {
    return new Score(this.name, this.fScore(stats), signature);
  }

  signature(nrefs: number | "var"): Signature {
    return new Signature(nrefs, [
      ["case", "c", this.lowercase ? "lc" : "mixed"],
      ["eff", "e", this.epsSmoothing ? "no" : "yes"],
      ["nc", "nc", this.charOrder],
      ["nw", "nw", this.wordOrder],
      ["space", "s", this.whitespace ? "yes" : "no"],
    ]);
  }
}

export function corpusChrf(
  hyps: readonly string[],
  refs: ReferenceStreams,
  options: ChrfOptions = {},
  statsOptions: StatisticsOptions = {},
): Score {
  return corpusScore(new Chrf(options), hyps, refs, statsOptions);
}

export function sentenceChrf(hyp: string, refs: readonly string[], options: ChrfOptions = {}): Score {
  return sentenceScore(new Chrf(options), hyp, refs);
}
