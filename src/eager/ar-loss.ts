// The training loss of the autoregressive counterpart (docs/model.md §10), on libtorch:
//   Σ = CE_ε + λ · (C_src + mean_ℓ C_src^ℓ)
// CE_ε is fairseq's label_smoothed_nll_loss (ε = decoder.labelSmoothing, 0.1 in the reference's ctc_aug recipe):
// per target token (</s> included, padding excluded) (1 − ε − ε/(V−1))·(−log p_y) + ε/(V−1)·Σ_v (−log p_v),
// in fp32. The source CTC terms are those of CTC-NAST (./loss.ts, reduction sum, zero_infinity), weighted by
// λ = decoder.ctcWeight (0.3: the reference's CTC 0.2 plus InterCTC 0.1). Sums over the batch: the trainer divides
// by the target tokens of the update, as for CTC-NAST.
import type { ArConfig } from "../model/config.ts";
import type { ArOutput } from "../model/ar.ts";
import { EOS_ID, PAD_ID } from "../model/token-ids.ts";
import { tensor, type Tensor } from "../torch/index.ts";
import { ctcSum } from "./loss.ts";

/** Teacher-forcing tensors (B, U_max+1) int64: prev = [</s>, y_1..y_U], next = [y_1..y_U, </s>], padded with <pad>. */
export interface DecoderTargets {
  prev: Tensor;
  next: Tensor;
}

export function decoderTargets(targets: number[][], device: string): DecoderTargets {
  const U = Math.max(0, ...targets.map((t) => t.length)) + 1;
  const prev = new BigInt64Array(targets.length * U).fill(BigInt(PAD_ID));
  const next = new BigInt64Array(targets.length * U).fill(BigInt(PAD_ID));
  targets.forEach((t, b) => {
    prev[b * U] = BigInt(EOS_ID);
    t.forEach((id, u) => {
      prev[b * U + u + 1] = BigInt(id);
      next[b * U + u] = BigInt(id);
    });
    next[b * U + t.length] = BigInt(EOS_ID);
  });
  const shape = [targets.length, U];
  return { prev: tensor(prev, { shape, dtype: "int64", device }), next: tensor(next, { shape, dtype: "int64", device }) };
}

/** Σ over non-pad positions of the label-smoothed cross-entropy of logits (B, U, V) against next (B, U). */
export function labelSmoothedCe(logits: Tensor, next: Tensor, epsilon: number): Tensor {
  const logProbs = logits.to("float32").logSoftmax(2); // (B,U,V)
  const V = logProbs.shape[2]!;
  const nll = logProbs.gather(2, next.unsqueeze(2)).squeeze(2).neg(); // (B,U)
  const smooth = logProbs.sum(2).neg(); // (B,U)
  const epsI = epsilon / (V - 1);
  const perToken = nll.mul(1 - epsilon - epsI).add(smooth.mul(epsI));
  return perToken.maskedFill(next.eq(PAD_ID), 0).sum();
}

export interface ArLossSums {
  /** The scalar whose gradient trains the model (after the caller's division by the target tokens). */
  loss: Tensor;
  ce: Tensor;
  src: Tensor;
  srcInter: Tensor | null;
}

export function arLoss(cfg: ArConfig, out: ArOutput<Tensor>, next: Tensor, src: Tensor, srcLengths: Tensor): ArLossSums {
  const ce = labelSmoothedCe(out.logits, next, cfg.decoder.labelSmoothing);
  const srcCtc = ctcSum(out.srcLogits, out.outLengths, src, srcLengths);
  const srcInter =
    out.interSrcLogits.length === 0 ? null : out.interSrcLogits.map((z) => ctcSum(z, out.outLengths, src, srcLengths)).reduce((a, c) => a.add(c)).div(out.interSrcLogits.length);
  const ctc = srcInter === null ? srcCtc : srcCtc.add(srcInter);
  return { loss: ce.add(ctc.mul(cfg.decoder.ctcWeight)), ce, src: srcCtc, srcInter };
}
