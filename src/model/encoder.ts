// The acoustic encoder both models share (docs/model.md §2-§3): the Conv1d subsampler, the Conformer layers
// with source InterCTC + PAE, the final LayerNorm and the source CTC head. CTC-NAST (./nast.ts) stacks its
// adapter and textual encoder on h; the autoregressive counterpart (./ar.ts) attends to h from its decoder.
//
//   fbank (B,T,80) → subsampler (4x) → LayerNorm, rel-pos table, dropout                      (B,T',d)
//   → Conformer layers; InterCTC(src) + PAE_src after the configured layers
//   → final LN = h → source CTC                                                                (B,T',V)
import type { EncoderConfig } from "./config.ts";
import type { ModelContext } from "./context.ts";
import { conformerLayer, layerNorm } from "./layers.ts";

/** The curriculum oracle for the target PAE (docs/model.md §5.2), computed by the trainer from pass 1. */
export interface Oracle<T> {
  /** (B, T') bool: frames whose predicted distribution is replaced by the smoothed ground truth. */
  mask: T;
  /** (B, T') int64: oracle token per frame (blank 0 where the Viterbi path is on a blank). */
  ids: T;
  /** Label smoothing of the one-hot: q = (1−s)·onehot + s/V (reference: 0.1). */
  smoothing: number;
}

export interface AcousticOutput<T> {
  /** The encoder output after its final LayerNorm (B, T', d). */
  h: T;
  /** Source (transcript) CTC logits (B, T', V). */
  srcLogits: T;
  /** Intermediate source CTC logits, one per acoustic.interCtcLayers entry, in order. */
  interSrcLogits: T[];
  /** Valid positions per utterance (B) int64: the subsampled input lengths. */
  outLengths: T;
  /** (B, T') bool, true at padded positions. */
  padMask: T;
  /** The padding mask as (B, 1, 1, T') for attention logits. */
  keyMask: T;
}

export function acousticEncoder<T>(c: ModelContext<T, EncoderConfig>, feats: T, lengths: T): AcousticOutput<T> {
  const { ops, cfg } = c;
  const d = cfg.dModel;

  // Front end: 4x subsampling, LayerNorm (no √d scaling), relative positions (a table, not added), dropout.
  const sub = subsample(c, feats, lengths); // (B,T',d)
  const outLengths = sub.lengths;
  const padMask = ops.paddingMask(outLengths, sub.x, 1); // (B,T')
  const keyMask = ops.unsqueeze(ops.unsqueeze(padMask, 1), 1); // (B,1,1,T')
  let x = ops.dropout(layerNorm(c, sub.x, "embed_norm"), cfg.dropout);
  const pos = ops.relPositions(x, 1, d); // (1,2T'−1,d)

  const interSrcLogits: T[] = [];
  let shared: T | undefined;
  for (let i = 0; i < cfg.acoustic.layers; i++) {
    ({ x, shared } = conformerLayer(c, i, x, pos, padMask, keyMask, shared));
    if (cfg.acoustic.interCtcLayers.includes(i + 1)) {
      const inter = interCtc(c, x, `acoustic.layers.${i}.inter_norm`, "ctc.src_bias", cfg.acoustic.pae ? "pae.src" : undefined);
      interSrcLogits.push(inter.logits);
      x = inter.x;
    }
  }
  const h = layerNorm(c, x, "acoustic.final_norm"); // (B,T',d)
  const srcLogits = ctcLogits(c, h, "ctc.src_bias"); // (B,T',V)
  return { h, srcLogits, interSrcLogits, outLengths, padMask, keyMask };
}

/**
 * Conv1d subsampler (§2.2): per layer Conv1d(k, stride 2, pad (k−1)/2) → GLU over channels, lengths
 * L ← ⌊(L−1)/2⌋+1. Padded frames are zeroed before each conv so that a valid output frame sees the same
 * zeros at the end of an utterance whether it is alone or padded in a batch (the reference leaves them).
 */
function subsample<T>(c: ModelContext<T, EncoderConfig>, feats: T, lengths: T): { x: T; lengths: T } {
  const { ops, cfg } = c;
  const { layers, kernel } = cfg.subsampler;
  const pad = (kernel - 1) / 2;
  let x = ops.transpose(ops.maskedFill(feats, ops.unsqueeze(ops.paddingMask(lengths, feats, 1), 2), 0), [0, 2, 1]); // (B,80,T)
  let len = lengths;
  for (let i = 0; i < layers; i++) {
    x = ops.conv1d(x, ops.param(`subsampler.conv.${i}.weight`), ops.param(`subsampler.conv.${i}.bias`), { stride: 2, padding: pad });
    x = ops.glu(x, 1); // (B,C/2,T/2)
    len = ops.convLength(len, kernel, 2, pad);
    x = ops.maskedFill(x, ops.unsqueeze(ops.paddingMask(len, x, 2), 1), 0);
  }
  return { x: ops.transpose(x, [0, 2, 1]), lengths: len }; // (B,T',d)
}

/** A CTC head: Dropout → Linear with the shared weight (fairseq embed_tokens) and the head's own bias (§4.5). */
export function ctcLogits<T>(c: ModelContext<T, EncoderConfig>, x: T, bias: string): T {
  const { ops } = c;
  return ops.linear(ops.dropout(x, c.cfg.dropout), ops.param("ctc.weight"), ops.param(bias));
}

/**
 * InterCTC with prediction-aware encoding (§3.4): n = LN_ℓ(x); z = CTC(n); x ← n + softmax(z)·E.
 * The residual stream is replaced by the normalised n (pae_unnorm_input False). Without PAE, x is kept.
 * With the curriculum oracle, p is replaced by the smoothed one-hot of the oracle where mask (§5.2):
 * q·E = (1−s)·E[oracle] + s·mean_v(E[v]); the returned logits stay the model's own.
 */
export function interCtc<T>(c: ModelContext<T, EncoderConfig>, x: T, norm: string, bias: string, pae: string | undefined, oracle?: Oracle<T>): { x: T; logits: T } {
  const { ops, cfg } = c;
  const n = layerNorm(c, x, norm);
  const logits = ctcLogits(c, n, bias); // (B,T',V)
  if (pae === undefined) return { x, logits };
  const table = ops.param(pae); // (V,d)
  let expected = ops.matmul(ops.softmax(logits, 2), table); // (B,T',d)
  if (oracle !== undefined) {
    const s = oracle.smoothing;
    const truth = ops.gather(table, oracle.ids, 0); // (B,T',d)
    const uniform = ops.div(ops.sum(table, 0), cfg.vocabSize); // (d)
    const smoothed = ops.add(ops.mul(truth, 1 - s), ops.mul(uniform, s));
    expected = ops.where(ops.unsqueeze(oracle.mask, 2), smoothed, expected);
  }
  return { x: ops.add(n, expected), logits };
}
