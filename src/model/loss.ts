// The CTC-NAST training loss (docs/model.md §5.1) and the LiSA retro-fit attention term (§7.6), on libtorch:
//   L = CTC_src + mean_ℓ CTC_src@ℓ + CTC_tgt + mean_ℓ CTC_tgt@ℓ, each summed over the batch, divided by the
//   number of target tokens (fairseq sample_size, sentence_avg False).
// Each CTC is torch's ctc_loss (blank 0, reduction none, zero_infinity) on log_softmax in fp32. Utterances
// that cannot be aligned (T' < U + repeats) are zeroed explicitly and counted (§2.3).
import type { AttentionRecord } from "./context.ts";
import type { NastOutput } from "./nast.ts";
import { ctcLoss, tensor, type Tensor } from "../torch/index.ts";

export interface LossTargets {
  /** Transcript token ids per utterance (source CTC), blank 0 excluded. */
  src: number[][];
  /** Translation token ids per utterance (target CTC). */
  tgt: number[][];
}

export interface NastLoss {
  /** The scalar to backpropagate. */
  loss: Tensor;
  /** The four terms of L, each already divided by `tgtTokens` (they sum to `loss`); null where absent. */
  terms: { src: Tensor; interSrc: Tensor | null; tgt: Tensor; interTgt: Tensor | null };
  /** Number of target tokens in the batch (the divisor). */
  tgtTokens: number;
  /** Utterances whose source / target CTC is infeasible (T' < U + repeats): their losses are 0. */
  infeasible: { src: number; tgt: number };
}

/** The fewest CTC frames that can emit `ids`: one per token plus a blank between equal neighbours. */
export function ctcMinFrames(ids: readonly number[]): number {
  let repeats = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i] === ids[i - 1]) repeats++;
  return ids.length + repeats;
}

interface Side {
  targets: Tensor;
  lengths: Tensor;
  feasible: Tensor;
  infeasible: number;
}

function prepareSide(ids: number[][], frames: number[], vocab: number, device: string, what: string): Side {
  const B = frames.length;
  if (ids.length !== B) throw new Error(`nastLoss: ${ids.length} ${what} targets for a batch of ${B}`);
  const S = Math.max(1, ...ids.map((t) => t.length));
  const flat = new BigInt64Array(B * S);
  const feasible = new Float32Array(B);
  let infeasible = 0;
  ids.forEach((seq, b) => {
    seq.forEach((id, j) => {
      if (!Number.isInteger(id) || id <= 0 || id >= vocab) {
        throw new Error(`nastLoss: ${what} targets[${b}][${j}] is ${id}; token ids must be in 1..${vocab - 1} (0 is the CTC blank)`);
      }
      flat[b * S + j] = BigInt(id);
    });
    const ok = (frames[b] as number) >= ctcMinFrames(seq);
    feasible[b] = ok ? 1 : 0;
    if (!ok) infeasible++;
  });
  return {
    targets: tensor(flat, { shape: [B, S], device }),
    lengths: tensor(BigInt64Array.from(ids, (t) => BigInt(t.length)), { device }),
    feasible: tensor(feasible, { device }),
    infeasible,
  };
}

/** Σ over the batch of one CTC head's loss, infeasible utterances zeroed. logits (B, T', V). */
function ctcSum(logits: Tensor, inputLengths: Tensor, side: Side): Tensor {
  const logProbs = logits.to("float32").logSoftmax(2).transpose(0, 1); // (T',B,V)
  const perUtterance = ctcLoss(logProbs, side.targets, inputLengths, side.lengths, { blank: 0, reduction: "none", zeroInfinity: true });
  return perUtterance.mul(side.feasible).sum();
}

function meanOf(xs: Tensor[]): Tensor | null {
  if (xs.length === 0) return null;
  let total = xs[0] as Tensor;
  for (const x of xs.slice(1)) total = total.add(x);
  return total.div(xs.length);
}

export function nastLoss(out: NastOutput<Tensor>, targets: LossTargets): NastLoss {
  const frames = out.outLengths.toArray();
  const vocab = out.tgtLogits.shape[2] as number;
  const device = out.tgtLogits.device;
  const src = prepareSide(targets.src, frames, vocab, device, "source");
  const tgt = prepareSide(targets.tgt, frames, vocab, device, "target");
  const tgtTokens = targets.tgt.reduce((n, t) => n + t.length, 0);
  const norm = Math.max(1, tgtTokens);

  const srcTerm = ctcSum(out.srcLogits, out.outLengths, src).div(norm);
  const tgtTerm = ctcSum(out.tgtLogits, out.outLengths, tgt).div(norm);
  const interSrc = meanOf(out.interSrcLogits.map((z) => ctcSum(z, out.outLengths, src)));
  const interTgt = meanOf(out.interTgtLogits.map((z) => ctcSum(z, out.outLengths, tgt)));
  const interSrcTerm = interSrc?.div(norm) ?? null;
  const interTgtTerm = interTgt?.div(norm) ?? null;

  let loss = srcTerm.add(tgtTerm);
  if (interSrcTerm) loss = loss.add(interSrcTerm);
  if (interTgtTerm) loss = loss.add(interTgtTerm);
  return {
    loss,
    terms: { src: srcTerm, interSrc: interSrcTerm, tgt: tgtTerm, interTgt: interTgtTerm },
    tgtTokens,
    infeasible: { src: src.infeasible, tgt: tgt.infeasible },
  };
}

/**
 * The retro-fit attention term (§7.6): KL(A_full ‖ A_LiSA) per LiSA layer, averaged over heads and valid
 * queries, then over the LiSA layers. The teacher side is detached. Needs forward(..., {teacher: true})
 * records; null if there are none.
 */
export function attentionKl(records: AttentionRecord<Tensor>[], padMask: Tensor): Tensor | null {
  const valid = padMask.logicalNot().to("float32").unsqueeze(1); // (B,1,T')
  const perLayer: Tensor[] = [];
  for (const r of records) {
    if (r.teacherLogProbs === undefined) continue;
    const t = r.teacherLogProbs.detach().to("float32"); // the full layer is the target, not trained by this term
    const kl = t.exp().mul(t.sub(r.logProbs.to("float32"))).sum(3); // (B,H,T')
    const heads = kl.shape[1] as number;
    perLayer.push(kl.mul(valid).sum().div(valid.sum().mul(heads)));
  }
  return meanOf(perLayer);
}
