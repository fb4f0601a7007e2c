// LiSA's motivating analysis (Mu et al., TACL 2026; docs/model.md §7.8): how similar is each head's attention to each
// head of the adjacent layer, and how much more similar once the heads are paired up (the observation that
// direct sharing fails without rearranging heads). Similarities are per query between two attention rows
// (distributions over keys), averaged over the valid queries of all utterances.
import type { Tensor } from "../../torch/index.ts";
import { tidy } from "../../torch/index.ts";
import { maximumAssignment } from "./hungarian.ts";

export type SimilarityMetric = "js" | "cosine";

/**
 * Σ over queries of sim(p[h, i, :], q[g, i, :]) for every head pair: (H, H) as row-major numbers.
 * p, q: (H, n, n) attention weights of one utterance (valid part only).
 * "js": 1 − JSD(p‖q) / ln 2 ∈ [0, 1] (1 = identical rows); "cosine": cosine of the two rows.
 */
export function headSimilaritySums(p: Tensor, q: Tensor, metric: SimilarityMetric): number[] {
  return tidy(() => {
    const H = p.shape[0] as number;
    if (metric === "cosine") {
      const pn = p.div(p.norm(2, 2, true).clamp(1e-12)).permute([1, 0, 2]); // (n,H,n)
      const qn = q.div(q.norm(2, 2, true).clamp(1e-12)).permute([1, 2, 0]); // (n,n,H)
      return pn.matmul(qn).sum(0).toArray(); // (H,H)
    }
    // JS: m = (p + q)/2 for every head pair; 0·log 0 is taken as 0 by flooring the log's argument.
    const pp = p.unsqueeze(1); // (H,1,n,n)
    const qq = q.unsqueeze(0); // (1,H,n,n)
    const logM = pp.add(qq).mul(0.5).clamp(1e-30).log();
    const klP = pp.mul(pp.clamp(1e-30).log().sub(logM)).sum(3); // (H,H,n)
    const klQ = qq.mul(qq.clamp(1e-30).log().sub(logM)).sum(3);
    const jsd = klP.add(klQ).mul(0.5 / Math.LN2);
    return jsd.rsub(1).sum(2).reshape([H * H]).toArray();
  });
}

export interface LayerPairSimilarity {
  encoder: "acoustic" | "textual";
  /** 1-based layer numbers of the adjacent pair. */
  from: number;
  to: number;
  /** The upper layer is a LiSA layer (it already reuses the lower one's attention). */
  toIsLisa: boolean;
  /** sim[h][g]: head h of `from` against head g of `to`, mean over queries. */
  matrix: number[][];
  /** Mean of the diagonal: sharing heads as they are numbered. */
  direct: number;
  /** Mean over the best one-to-one pairing (Hungarian): sharing after head alignment. */
  aligned: number;
  /** permutation[h] = the head of `to` paired with head h of `from`. */
  permutation: number[];
}

/** Accumulates per-utterance sums and turns them into the report's matrices. */
export class SimilarityAccumulator {
  private readonly sums = new Map<string, { encoder: "acoustic" | "textual"; from: number; toIsLisa: boolean; sum: number[]; queries: number }>();
  constructor(readonly heads: number) {}

  add(encoder: "acoustic" | "textual", from: number, toIsLisa: boolean, sums: number[], queries: number): void {
    const key = `${encoder}:${from}`;
    const entry = this.sums.get(key) ?? { encoder, from, toIsLisa, sum: new Array<number>(sums.length).fill(0), queries: 0 };
    sums.forEach((v, i) => (entry.sum[i] = (entry.sum[i] as number) + v));
    entry.queries += queries;
    this.sums.set(key, entry);
  }

  result(): LayerPairSimilarity[] {
    const H = this.heads;
    return [...this.sums.values()].map((e) => {
      const matrix = Array.from({ length: H }, (_, h) => Array.from({ length: H }, (_, g) => (e.sum[h * H + g] as number) / e.queries));
      const permutation = maximumAssignment(matrix);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      return {
        encoder: e.encoder,
        from: e.from,
        to: e.from + 1,
        toIsLisa: e.toIsLisa,
        matrix,
        direct: mean(matrix.map((row, h) => row[h] as number)),
        aligned: mean(matrix.map((row, h) => row[permutation[h] as number] as number)),
        permutation,
      };
    });
  }
}
