// The CTC-NAST training loss (docs/model.md §5.1) and the LiSA retro-fit attention term (§7.6), on libtorch:
//   Σ = C_src + mean_ℓ C_src^ℓ + C_tgt + mean_ℓ C_tgt^ℓ  [+ λ · KL]
// Each C is torch's ctc_loss (blank 0, reduction sum, zero_infinity) on log_softmax in fp32, summed over the
// batch; zero_infinity gives an utterance that cannot be aligned (T' < U + repeats, §2.3) the loss 0. The sum is
// not normalised here: the trainer divides it by the target tokens of the whole update (all micro-batches),
// fairseq's sample_size with sentence_avg off.
import type { NastOutput } from "../model/nast.ts";
import { ctcLoss, tensor, type Tensor } from "../torch/index.ts";

/** CTC references on the device: padded (B, max(1, U_max)) int64 ids (blank 0 excluded) and their lengths (B). */
export interface LossTargets {
  src: Tensor;
  srcLengths: Tensor;
  tgt: Tensor;
  tgtLengths: Tensor;
}

/** The loss of a batch before normalisation, and its terms; a term is null where the model has none. */
export interface LossSums {
  /** The scalar whose gradient trains the model (after the caller's division by the target tokens). */
  loss: Tensor;
  src: Tensor;
  srcInter: Tensor | null;
  tgt: Tensor;
  tgtInter: Tensor | null;
  /** Σ KL(full ‖ LiSA), unweighted; null unless retro-fitting. */
  kl: Tensor | null;
}

/** Padded (B, max(1, U_max)) int64 targets and their lengths (B). */
export function targetTensors(targets: number[][], device: string): [Tensor, Tensor] {
  const U = Math.max(1, ...targets.map((t) => t.length));
  const padded = new BigInt64Array(targets.length * U);
  targets.forEach((t, b) => t.forEach((id, u) => (padded[b * U + u] = BigInt(id))));
  return [
    tensor(padded, { shape: [targets.length, U], dtype: "int64", device }),
    tensor(BigInt64Array.from(targets, (t) => BigInt(t.length)), { shape: [targets.length], dtype: "int64", device }),
  ];
}

/** Summed CTC loss of logits (B, T', V) in fp32. */
export function ctcSum(logits: Tensor, outLengths: Tensor, targets: Tensor, targetLengths: Tensor): Tensor {
  const logProbs = logits.to("float32").logSoftmax(2).transpose(0, 1); // (T',B,V)
  return ctcLoss(logProbs, targets, outLengths, targetLengths, { blank: 0, reduction: "sum", zeroInfinity: true });
}

/**
 * KL(full ‖ LiSA) per LiSA layer, averaged over heads, summed over valid queries, the batch and the layers
 * (so that the per-token normaliser applies to it as to the CTC sums, docs/model.md §7.6). The full attention
 * is the teacher: detached. Needs forward(..., {teacher: true}); null without teacher records.
 */
export function attentionKl(out: NastOutput<Tensor>): Tensor | null {
  const records = (out.attention ?? []).filter((r) => r.lisa && r.teacherLogProbs !== undefined);
  if (records.length === 0) return null;
  const valid = out.padMask.logicalNot().to("float32"); // (B,T')
  let total: Tensor | null = null;
  for (const r of records) {
    const teacher = r.teacherLogProbs!.detach().to("float32");
    const student = r.logProbs.to("float32");
    const perQuery = teacher.exp().mul(teacher.sub(student)).sum(3).mean(1); // (B,T'): mean over heads
    const term = perQuery.mul(valid).sum();
    total = total === null ? term : total.add(term);
  }
  return total;
}

/** The loss of §5.1 summed over a batch, with λ·KL (§7.6) when `klWeight` is not null. */
export function nastLoss(out: NastOutput<Tensor>, targets: LossTargets, klWeight: number | null): LossSums {
  const src = ctcSum(out.srcLogits, out.outLengths, targets.src, targets.srcLengths);
  const tgt = ctcSum(out.tgtLogits, out.outLengths, targets.tgt, targets.tgtLengths);
  // The intermediate CTC losses are averaged over their layers before they are added.
  const mean = (zs: Tensor[], t: Tensor, tl: Tensor): Tensor | null =>
    zs.length === 0 ? null : zs.map((z) => ctcSum(z, out.outLengths, t, tl)).reduce((a, c) => a.add(c)).div(zs.length);
  const srcInter = mean(out.interSrcLogits, targets.src, targets.srcLengths);
  const tgtInter = mean(out.interTgtLogits, targets.tgt, targets.tgtLengths);
  const kl = klWeight !== null ? attentionKl(out) : null;
  let loss = src.add(tgt);
  if (srcInter) loss = loss.add(srcInter);
  if (tgtInter) loss = loss.add(tgtInter);
  if (kl) loss = loss.add(kl.mul(klWeight as number));
  return { loss, src, srcInter, tgt, tgtInter, kl };
}
