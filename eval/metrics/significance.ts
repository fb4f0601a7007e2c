// Bootstrap confidence intervals and the paired bootstrap resampling test as sacreBLEU 2.6.0 runs them
// (sacrebleu/significance.py, after Koehn 2004 and Moses' bootstrap-hypothesis-difference-significance.pl):
// the same resampling indices (numpy PCG64 seeded with 12345, see numpy-random.ts), the 95% interval from the
// sorted resampled scores (index n//40 from each end), and the p-value (c + 1) / (S + 1) where c counts
// resamples whose mean-centred |Δ| exceeds the actual |Δ|.
//
// sacreBLEU sums and scores the resampled statistics as numpy float32 arrays; numpy-float32.ts evaluates the
// score formulas the same way, so means, intervals and p-values come out bit for bit as sacreBLEU's
// (checked against its printed JSON in test/eval/significance.test.ts).
import { type Metric, type ReferenceStreams, corpusStatistics, sumStatistics } from "./metric.ts";
import { numpyMean, sumFloat32 } from "./numpy-float32.ts";
import { bootstrapIndices } from "./numpy-random.ts";
import type { Score } from "./score.ts";
import type { Signature } from "./signature.ts";

/** sacreBLEU's default seed (environment variable SACREBLEU_SEED in sacreBLEU). */
export const DEFAULT_SEED = 12345;

/**
 * Mean and 95% confidence half-width of bootstrap scores (sacreBLEU significance.estimate_ci), in float32 when
 * numpy holds the scores as float32.
 */
export function estimateCi(scores: readonly number[], float32 = false): { mean: number; ci: number } {
  const sorted = [...scores].sort((a, b) => a - b);
  const n = sorted.length;
  const lowerIdx = Math.floor(n / 40);
  const upperIdx = n - lowerIdx - 1;
  const width = (sorted[upperIdx] as number) - (sorted[lowerIdx] as number);
  const r = float32 ? Math.fround : (x: number) => x;
  return { mean: numpyMean(sorted, float32), ci: r(0.5 * r(width)) };
}

/** Scores of the metric on each bootstrap resample, computed as sacreBLEU does (float32 statistics). */
export function resampledScores(metric: Metric, stats: readonly (readonly number[])[], indices: readonly Uint32Array[]): number[] {
  return indices.map((idx) => metric.resampledScore(sumFloat32(stats, idx, metric.statisticsSize)));
}

/** Corpus score with a bootstrap estimate of its mean and 95% interval (sacreBLEU `--confidence`). */
export function corpusScoreWithCi(
  metric: Metric,
  hyps: readonly string[],
  refs: ReferenceStreams,
  samples = 1000,
  seed = DEFAULT_SEED,
): Score {
  const { stats, nrefs } = corpusStatistics(metric, hyps, refs);
  const signature = metric.signature(nrefs);
  signature.update("bs", samples);
  signature.update("seed", String(seed));
  const score = metric.scoreFromStatistics(sumStatistics(stats, metric.statisticsSize), signature);
  const scores = resampledScores(metric, stats, bootstrapIndices(hyps.length, samples, seed));
  const { mean: m, ci } = estimateCi(scores, metric.resampledFloat32);
  score.mean = m;
  score.ci = ci;
  return score;
}

export interface PairedResult {
  score: number;
  /** null for the baseline */
  pValue: number | null;
  mean: number;
  ci: number;
}

export interface PairedBootstrapOutput {
  /** metric name (BLEU, chrF2, TER...) → signature with bs and seed fields */
  signatures: Map<string, Signature>;
  /** metric name → one result per system, the baseline first */
  results: Map<string, PairedResult[]>;
}

/**
 * Paired bootstrap resampling: every system is compared with the first (the baseline) on the same resamples
 * (sacreBLEU significance._paired_bs_test and PairedTest).
 */
export function pairedBootstrap(
  systems: readonly (readonly string[])[],
  refs: ReferenceStreams,
  metrics: readonly Metric[],
  samples = 1000,
  seed = DEFAULT_SEED,
): PairedBootstrapOutput {
  if (systems.length < 2) throw new Error("paired tests need at least two systems (the first is the baseline)");
  const n = (systems[0] as readonly string[]).length;
  const indices = bootstrapIndices(n, samples, seed);
  const signatures = new Map<string, Signature>();
  const results = new Map<string, PairedResult[]>();
  for (const metric of metrics) {
    const base = corpusStatistics(metric, systems[0] as readonly string[], refs);
    const signature = metric.signature(base.nrefs);
    signature.update("seed", String(seed));
    signature.update("bs", samples);
    const baseScore = metric.scoreFromStatistics(sumStatistics(base.stats, metric.statisticsSize), signature);
    const baseScores = resampledScores(metric, base.stats, indices);
    const baseCi = estimateCi(baseScores, metric.resampledFloat32);
    const rows: PairedResult[] = [{ score: baseScore.score, pValue: null, ...baseCi }];
    for (const hyps of systems.slice(1)) {
      const sys = corpusStatistics(metric, hyps, refs);
      const sysScore = metric.scoreFromStatistics(sumStatistics(sys.stats, metric.statisticsSize), signature).score;
      const sysScores = resampledScores(metric, sys.stats, indices);
      const diff = Math.abs(baseScore.score - sysScore);
      // numpy: |sys - base| and its mean-centring in the scores' precision; the comparison casts diff to it.
      const r = metric.resampledFloat32 ? Math.fround : (x: number) => x;
      const sampleDiffs = sysScores.map((s, k) => Math.abs(r(s - (baseScores[k] as number))));
      const centre = numpyMean(sampleDiffs, metric.resampledFloat32);
      const threshold = r(diff);
      const exceed = sampleDiffs.filter((d) => r(d - centre) > threshold).length;
      rows.push({ score: sysScore, pValue: (exceed + 1) / (samples + 1), ...estimateCi(sysScores, metric.resampledFloat32) });
    }
    signatures.set(baseScore.name, signature);
    results.set(baseScore.name, rows);
  }
  return { signatures, results };
}
