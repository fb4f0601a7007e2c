// The autoregressive counterpart of CTC-NAST (docs/model.md §10), the AR model of the reference's
// reproduction_ctc_aug recipe reduced to what is compared: the same acoustic encoder (./encoder.ts) with its
// source CTC (an auxiliary loss, and the timestamps of nast translate), and a Transformer decoder (./decoder.ts).
// Written once against Ops<T> like ./nast.ts; the export splits it into an encoder graph and a decoder-step graph.
//
//   fbank (B,T,80) → acoustic encoder → h (B,T',d), source CTC (B,T',V)
//   → cross keys/values of h per decoder layer (once per utterance)
//   → decoder: teacher-forced (B,U) → (B,U,V), or one step (N,1) + cache → (N,V)
import type { ArConfig } from "./config.ts";
import type { ModelContext } from "./context.ts";
import { crossKeysValues, decoderForward, decoderStep, type KeysValues, type StepInput } from "./decoder.ts";
import { acousticEncoder } from "./encoder.ts";
import type { Ops } from "./ops.ts";

function context<T>(ops: Ops<T>, cfg: ArConfig, random: () => number): ModelContext<T, ArConfig> {
  return { ops, cfg, random, record: false, teacher: false, records: [] };
}

export interface ArEncoded<T> {
  /** Source CTC logits (B, T', V). */
  srcLogits: T;
  /** Intermediate source CTC logits, one per acoustic.interCtcLayers entry. */
  interSrcLogits: T[];
  /** Valid encoder frames per utterance (B) int64. */
  outLengths: T;
  /** (B, T') bool, true at padded frames. */
  padMask: T;
  /** (B, 1, 1, T') bool: padMask for attention logits. */
  memoryMask: T;
  /** Cross-attention keys and values per decoder layer (B, H, T', dh). */
  cross: KeysValues<T>[];
}

/** The encoder half: everything that runs once per utterance. */
export function arEncode<T>(ops: Ops<T>, cfg: ArConfig, feats: T, lengths: T, random: () => number = Math.random): ArEncoded<T> {
  const c = context(ops, cfg, random);
  const enc = acousticEncoder(c, feats, lengths);
  return {
    srcLogits: enc.srcLogits,
    interSrcLogits: enc.interSrcLogits,
    outLengths: enc.outLengths,
    padMask: enc.padMask,
    memoryMask: enc.keyMask,
    cross: crossKeysValues(c, enc.h),
  };
}

export interface ArOutput<T> extends ArEncoded<T> {
  /** Next-token logits (B, U, V) under teacher forcing. */
  logits: T;
}

/** Training: the encoder and the teacher-forced decoder on prev (B, U) int64 = [</s>, y_1..y_{U−1}]. */
export function arForward<T>(ops: Ops<T>, cfg: ArConfig, feats: T, lengths: T, prev: T, random: () => number = Math.random): ArOutput<T> {
  const enc = arEncode(ops, cfg, feats, lengths, random);
  const logits = decoderForward(context(ops, cfg, random), prev, enc.cross, enc.memoryMask);
  return { ...enc, logits };
}

/** One decoding step (./decoder.ts decoderStep); eval mode only, so no random source. */
export function arStep<T>(ops: Ops<T>, cfg: ArConfig, input: StepInput<T>): { logits: T; cache: KeysValues<T>[] } {
  return decoderStep(context(ops, cfg, Math.random), input);
}
