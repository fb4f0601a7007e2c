// BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.6.0 computes it (sacrebleu/metrics/bleu.py; docs/design.md §7.4):
// per segment, clipped n-gram matches against the per-n-gram maximum over references and the closest
// reference length; corpus BLEU from the summed statistics with sacreBLEU's smoothing methods
// (Chen & Cherry, 2014: floor = method 1, add-k = method 2, exp = NIST method 3).
import { type Metric, type ReferenceStreams, type StatisticsOptions, corpusScore, sentenceScore } from "./metric.ts";
import { clippedMatches, NgramIds, SymbolIds } from "./ngram-keys.ts";
import { pyFixed, pyLower, pyRstrip, pySplit } from "./python.ts";
import { Score } from "./score.ts";
import { Signature } from "./signature.ts";
import { TOKENIZERS, type TokenizerName } from "./tokenizers/index.ts";

export type SmoothMethod = "none" | "floor" | "add-k" | "exp";

/** Default smoothing values (sacreBLEU BLEU.SMOOTH_DEFAULTS, from Chen & Cherry 2014). */
export const SMOOTH_DEFAULTS: Record<SmoothMethod, number | null> = { none: null, floor: 0.1, "add-k": 1, exp: null };
export const SMOOTH_METHODS = Object.keys(SMOOTH_DEFAULTS) as SmoothMethod[];

export interface BleuOptions {
  /** default "13a" */
  tokenize?: TokenizerName;
  lowercase?: boolean;
  /** default "exp" */
  smoothMethod?: SmoothMethod;
  /** null/undefined: the method's default (floor 0.1, add-k 1) */
  smoothValue?: number | null;
  /** default 4 */
  maxNgramOrder?: number;
  /** Average only over the orders that have n-grams (what sentence BLEU needs). Default false. */
  effectiveOrder?: boolean;
  /** Do not warn about hypotheses that look tokenized. */
  force?: boolean;
}

export class BleuScore extends Score {
  constructor(
    score: number,
    signature: Signature,
    readonly counts: number[],
    readonly totals: number[],
    readonly precisions: number[],
    readonly bp: number,
    readonly sysLen: number,
    readonly refLen: number,
  ) {
    const ratio = refLen ? sysLen / refLen : 0;
    const verbose =
      `${precisions.map((p) => pyFixed(p, 1)).join("/")} (BP = ${pyFixed(bp, 3)} ` +
      `ratio = ${pyFixed(ratio, 3)} hyp_len = ${sysLen} ref_len = ${refLen})`;
    super("BLEU", score, signature, verbose);
  }

  get ratio(): number {
    return this.refLen ? this.sysLen / this.refLen : 0;
  }
}

/** sacreBLEU utils.my_log: log with a huge negative floor for 0, so a zero precision gives a score ≈ 0. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

export interface BleuStatistics {
  correct: number[];
  total: number[];
  sysLen: number;
  refLen: number;
}

/**
 * BLEU from sufficient statistics (sacreBLEU BLEU.compute_bleu). Note the quirks kept on purpose: no match at
 * any order gives 0 whatever the smoothing (sacreBLEU #141); add-k adds k to orders ≥ 2 only; a missing
 * order stops the loop, and without effective order the remaining precisions count as 0.
 */
export function computeBleu(
  stats: BleuStatistics,
  smoothMethod: SmoothMethod = "none",
  smoothValue: number | null = null,
  effectiveOrder = false,
  maxNgramOrder = 4,
  /** Compute the precisions as numpy does on float32 statistics (sacreBLEU's bootstrap); see numpy-float32.ts. */
  float32 = false,
): { score: number; precisions: number[]; bp: number; correct: number[]; total: number[] } {
  const value = smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;
  const r = float32 ? Math.fround : (x: number) => x;
  const correct = stats.correct.slice();
  const total = stats.total.slice();
  const { sysLen, refLen } = stats;
  let bp = 1.0;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  const precisions = new Array<number>(maxNgramOrder).fill(0);
  if (!correct.some((c) => c !== 0)) return { score: 0, precisions, bp, correct, total };

  let smoothMteval = 1.0;
  let effOrder = maxNgramOrder;
  for (let n = 1; n <= maxNgramOrder; n++) {
    if (smoothMethod === "add-k" && n > 1) {
      correct[n - 1] = r((correct[n - 1] as number) + r(value));
      total[n - 1] = r((total[n - 1] as number) + r(value));
    }
    const c = correct[n - 1] as number;
    const t = total[n - 1] as number;
    if (t === 0) break;
    if (effectiveOrder) effOrder = n;
    if (c === 0) {
      if (smoothMethod === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = r(100 / r(smoothMteval * t));
      } else if (smoothMethod === "floor") {
        precisions[n - 1] = r(r(100 * value) / t);
      }
    } else {
      precisions[n - 1] = r(r(100 * c) / t);
    }
  }
  // Summed left to right like Python's sum() over a list.
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i] as number);
  return { score: bp * Math.exp(logSum / effOrder), precisions, bp, correct, total };
}

/** The BLEU metric with fixed options; implements sacreBLEU's statistics layout [hyp_len, ref_len, correct_1..N, total_1..N]. */
export class Bleu implements Metric<string[][]> {
  readonly tokenizer: TokenizerName;
  readonly lowercase: boolean;
  readonly smoothMethod: SmoothMethod;
  readonly smoothValue: number | null;
  readonly maxNgramOrder: number;
  readonly effectiveOrder: boolean;
  readonly checksTokenizedInput: boolean;
  readonly statisticsSize: number;
  private readonly tokenizeFn: (line: string) => string;

  constructor(options: BleuOptions = {}) {
    this.tokenizer = options.tokenize ?? "13a";
    this.lowercase = options.lowercase ?? false;
    this.smoothMethod = options.smoothMethod ?? "exp";
    this.smoothValue = options.smoothValue ?? null;
    this.maxNgramOrder = options.maxNgramOrder ?? 4;
    this.effectiveOrder = options.effectiveOrder ?? false;
    this.checksTokenizedInput = !(options.force ?? false);
    this.statisticsSize = 2 + 2 * this.maxNgramOrder;
    if (!Object.hasOwn(TOKENIZERS, this.tokenizer)) throw new Error(`unknown BLEU tokenizer '${this.tokenizer}'`);
    if (!Object.hasOwn(SMOOTH_DEFAULTS, this.smoothMethod)) throw new Error(`unknown smoothing method '${this.smoothMethod}'`);
    this.tokenizeFn = TOKENIZERS[this.tokenizer];
  }

  /** Lowercase (optional), strip trailing whitespace, tokenize, split (sacreBLEU BLEU._preprocess_segment). */
  tokens(sentence: string): string[] {
    const s = this.lowercase ? pyLower(sentence) : sentence;
    return pySplit(this.tokenizeFn(pyRstrip(s)));
  }

  referenceInfo(refs: string[]): string[][] {
    return refs.map((ref) => this.tokens(ref));
  }

  segmentStatistics(hyp: string, refs: string[][]): number[] {
    const tokens = this.tokens(hyp);
    const hypLen = tokens.length;
    // Closest reference length; ties go to the shorter reference.
    let closestDiff = -1;
    let closestLen = -1;
    for (const ref of refs) {
      const len = ref.length;
      const diff = Math.abs(hypLen - len);
      if (closestDiff === -1 || diff < closestDiff) {
        closestDiff = diff;
        closestLen = len;
      } else if (diff === closestDiff && len < closestLen) {
        closestLen = len;
      }
    }
    const N = this.maxNgramOrder;
    const stats = new Array<number>(2 + 2 * N).fill(0);
    stats[0] = hypLen;
    stats[1] = closestLen;
    // Matches are clipped by the largest count of the n-gram in any one reference.
    const symbols = new SymbolIds<string>();
    const refSymbols = refs.map((r) => symbols.intern(r));
    const ngrams = new NgramIds(symbols.base, N);
    const refIds = refSymbols.map((r) => ngrams.ids(r, true));
    const hypIds = ngrams.ids(symbols.lookup(tokens), false);
    for (let n = 1; n <= N; n++) {
      stats[2 + N + n - 1] = Math.max(0, hypLen - n + 1);
      stats[2 + n - 1] = clippedMatches(hypIds[n - 1] as number[], refIds.map((r) => r[n - 1] as number[]));
    }
    return stats;
  }

  scoreFromStatistics(stats: readonly number[], signature: Signature): BleuScore {
    const N = this.maxNgramOrder;
    const sysLen = Math.trunc(stats[0] as number);
    const refLen = Math.trunc(stats[1] as number);
    const r = computeBleu(
      { correct: stats.slice(2, 2 + N), total: stats.slice(2 + N, 2 + 2 * N), sysLen, refLen },
      this.smoothMethod,
      this.smoothValue,
      this.effectiveOrder,
      N,
    );
    return new BleuScore(r.score, signature, r.correct, r.total, r.precisions, r.bp, sysLen, refLen);
  }

  readonly resampledFloat32 = false;

  resampledScore(stats: readonly number[]): number {
    const N = this.maxNgramOrder;
    const sysLen = Math.trunc(stats[0] as number);
    const refLen = Math.trunc(stats[1] as number);
    const total = { correct: stats.slice(2, 2 + N), total: stats.slice(2 + N, 2 + 2 * N), sysLen, refLen };
    return computeBleu(total, this.smoothMethod, this.smoothValue, this.effectiveOrder, N, true).score;
  }

  signature(nrefs: number | "var"): Signature {
    const def = SMOOTH_DEFAULTS[this.smoothMethod];
    const smooth = def === null ? this.smoothMethod : `${this.smoothMethod}[${pyFixed(this.smoothValue ?? def, 2)}]`;
    return new Signature(nrefs, [
      ["case", "c", this.lowercase ? "lc" : "mixed"],
      ["eff", "e", this.effectiveOrder ? "yes" : "no"],
      ["tok", "tok", this.tokenizer],
      ["smooth", "s", smooth],
    ]);
  }
}

/** Corpus BLEU; refs[k][i] is the k-th reference of segment i. */
export function corpusBleu(
  hyps: readonly string[],
  refs: ReferenceStreams,
  options: BleuOptions = {},
  statsOptions: StatisticsOptions = {},
): BleuScore {
  return corpusScore(new Bleu(options), hyps, refs, statsOptions) as BleuScore;
}

/** Sentence BLEU against one or more references; effective order is on by default, as sacreBLEU recommends. */
export function sentenceBleu(hyp: string, refs: readonly string[], options: BleuOptions = {}): BleuScore {
  return sentenceScore(new Bleu({ effectiveOrder: true, ...options }), hyp, refs) as BleuScore;
}
