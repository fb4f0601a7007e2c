// What every block of the forward shares: the ops, the config, the training switches and the optional
// attention recording (for `nast analyze attention` and the LiSA retro-fit KL term).
import type { EncoderConfig, NastConfig } from "./config.ts";
import type { Ops } from "./ops.ts";

/** Large negative instead of −∞ at padded keys: exp() still gives exactly 0, and 0·(masked log-prob) stays 0 in KL. */
export const MASK_VALUE = -1e9;

export interface AttentionRecord<T> {
  encoder: "acoustic" | "textual";
  /** 1-based layer number. */
  layer: number;
  lisa: boolean;
  /** Pre-softmax scores before masking (B, H, T', T'); absent for LiSA layers sharing probabilities. */
  logits?: T;
  /** Attention weights (B, H, T', T') before dropout; 0 at padded keys. */
  probs: T;
  /** log(probs), finite everywhere (≈ −1e9 at padded keys). */
  logProbs: T;
  /** Retro-fit only (opts.teacher): log-weights the full layer would have computed, for KL(full ‖ LiSA). */
  teacherLogProbs?: T;
}

/** `C`: the config the block reads (the encoder's blocks read only what both models share). */
export interface ModelContext<T, C extends EncoderConfig = NastConfig> {
  ops: Ops<T>;
  cfg: C;
  /** Uniform [0, 1) draws for drop-net (training only); seeded by the trainer so that resume is exact. */
  random: () => number;
  /** Collect an AttentionRecord per self-attention layer (with `teacher` alone: only LiSA layers'). */
  record: boolean;
  /** Also compute the full attention of LiSA layers (parameters from ParamSpecOptions.teacher). */
  teacher: boolean;
  records: AttentionRecord<T>[];
}
