// The decoder of the autoregressive counterpart (docs/model.md §10): fairseq's pre-LN TransformerDecoder
// (decoder_normalize_before): √d·E[y] + sinusoidal positions → dropout → layers of
//   x ← x + dropout(SelfAttn(LN(x)))   causal
//   x ← x + dropout(CrossAttn(LN(x), h)) to the encoder output h, padded frames masked
//   x ← x + FFN(LN(x))                 ReLU
// → final LN → logits = x·Eᵀ (the target embedding is the output projection, share_decoder_input_output_embed).
// One layer, two executions: teacher-forced over all U positions with a causal mask (training), and one step with
// a key/value cache (decoding), which attends to exactly the keys the causal mask leaves. The cross-attention keys
// and values of h are computed once per utterance (crossKeysValues) and reused at every step.
// Shapes: N decoder rows (the batch, or batch × beam), U target positions, S cached positions, T' encoder frames,
// H heads, dh = d/H.
import type { ArConfig } from "./config.ts";
import { mergeHeads, splitHeads } from "./attention.ts";
import { MASK_VALUE, type ModelContext } from "./context.ts";
import { feedForward, layerNorm } from "./layers.ts";

/** Keys and values of one attention layer, (N, H, S, dh) each. */
export interface KeysValues<T> {
  k: T;
  v: T;
}

type Ctx<T> = ModelContext<T, ArConfig>;

function heads<T>(c: Ctx<T>, x: T, prefix: string): T {
  const { ops } = c;
  return splitHeads(c, ops.linear(x, ops.param(`${prefix}.weight`), ops.param(`${prefix}.bias`)), c.cfg.dModel / c.cfg.heads);
}

/** fairseq MultiheadAttention with precomputed keys and values: softmax((q/√dh)·kᵀ [masked])·v → out projection. */
function attend<T>(c: Ctx<T>, prefix: string, x: T, kv: KeysValues<T>, mask: T | undefined): T {
  const { ops, cfg } = c;
  const q = ops.mul(heads(c, x, `${prefix}.q`), (cfg.dModel / cfg.heads) ** -0.5); // (N,H,Uq,dh)
  const logits = ops.matmul(q, ops.transpose(kv.k, [0, 1, 3, 2])); // (N,H,Uq,S)
  const probs = ops.softmax(mask === undefined ? logits : ops.maskedFill(logits, mask, MASK_VALUE), 3);
  const context = ops.matmul(ops.dropout(probs, cfg.attentionDropout), kv.v); // (N,H,Uq,dh)
  return ops.linear(mergeHeads(c, context), ops.param(`${prefix}.out.weight`), ops.param(`${prefix}.out.bias`));
}

/** √d·E[tokens] + positions, dropout: tokens (N, U) int64, positions (U) int64 → (N, U, d). */
function embed<T>(c: Ctx<T>, tokens: T, positions: T): T {
  const { ops, cfg } = c;
  const e = ops.mul(ops.gather(ops.param("decoder.embed.weight"), tokens, 0), Math.sqrt(cfg.dModel)); // (N,U,d)
  return ops.dropout(ops.add(e, ops.sinusoid(positions, cfg.dModel)), cfg.dropout);
}

/** The cross-attention keys and values of every layer from the encoder output h (B, T', d): (B, H, T', dh) each. */
export function crossKeysValues<T>(c: Ctx<T>, h: T): KeysValues<T>[] {
  return Array.from({ length: c.cfg.decoder.layers }, (_, i) => ({
    k: heads(c, h, `decoder.layers.${i}.cross.k`),
    v: heads(c, h, `decoder.layers.${i}.cross.v`),
  }));
}

/**
 * One decoder layer. The self-attention keys and values are `past` (reordered to the rows of x) followed by those
 * of x; `causal` masks the future when x holds several positions. Returns the layer's output and its keys and values.
 */
function decoderLayer<T>(c: Ctx<T>, i: number, x: T, past: KeysValues<T> | undefined, causal: T | undefined, cross: KeysValues<T>, memoryMask: T): { x: T; self: KeysValues<T> } {
  const { ops, cfg } = c;
  const p = `decoder.layers.${i}`;
  const n = layerNorm(c, x, `${p}.self_norm`);
  const k = heads(c, n, `${p}.self.k`); // (N,H,U,dh)
  const v = heads(c, n, `${p}.self.v`);
  const self = past === undefined ? { k, v } : { k: ops.cat([past.k, k], 2), v: ops.cat([past.v, v], 2) }; // (N,H,S+U,dh)
  x = ops.add(x, ops.dropout(attend(c, `${p}.self`, n, self, causal), cfg.dropout));
  x = ops.add(x, ops.dropout(attend(c, `${p}.cross`, layerNorm(c, x, `${p}.cross_norm`), cross, memoryMask), cfg.dropout));
  x = ops.add(x, feedForward(c, layerNorm(c, x, `${p}.ffn.norm`), `${p}.ffn`, "relu"));
  return { x, self };
}

/** Final LayerNorm and the output projection by the target embedding: (N, U, d) → (N, U, V). */
function project<T>(c: Ctx<T>, x: T): T {
  const { ops } = c;
  return ops.linear(layerNorm(c, x, "decoder.final_norm"), ops.param("decoder.embed.weight"));
}

/**
 * Teacher forcing: the logits (B, U, V) of every next token given prev (B, U) int64 = [</s>, y_1..y_{U−1}]
 * (padded with PAD_ID; padded positions are never keys of a valid query under the causal mask), the cross keys and
 * values of h and memoryMask (B, 1, 1, T') true at padded frames.
 */
export function decoderForward<T>(c: Ctx<T>, prev: T, cross: KeysValues<T>[], memoryMask: T): T {
  const { ops } = c;
  let x = embed(c, prev, ops.range(prev, 1)); // (B,U,d)
  const causal = ops.causalMask(prev, 1); // (U,U)
  for (let i = 0; i < c.cfg.decoder.layers; i++) x = decoderLayer(c, i, x, undefined, causal, cross[i]!, memoryMask).x;
  return project(c, x);
}

export interface StepInput<T> {
  /** The last token of each row (N, 1) int64. */
  tokens: T;
  /** Its position, the number of tokens before it: (1) int64. */
  position: T;
  /** Row of the previous step's cache that each row continues (N) int64 (the beam's back-pointers). */
  parent: T;
  /** Self-attention keys and values of the previous steps, per layer (N_prev, H, S, dh); S = 0 at the first step. */
  cache: KeysValues<T>[];
  /** crossKeysValues of each row's utterance, per layer (N, H, T', dh). */
  cross: KeysValues<T>[];
  /** (N, 1, 1, T') bool, true at padded encoder frames. */
  memoryMask: T;
}

/** One decoding step: the next-token logits (N, V) and the grown cache (N, H, S+1, dh) per layer. */
export function decoderStep<T>(c: Ctx<T>, s: StepInput<T>): { logits: T; cache: KeysValues<T>[] } {
  const { ops } = c;
  let x = embed(c, s.tokens, s.position); // (N,1,d)
  const cache: KeysValues<T>[] = [];
  for (let i = 0; i < c.cfg.decoder.layers; i++) {
    const past = { k: ops.gather(s.cache[i]!.k, s.parent, 0), v: ops.gather(s.cache[i]!.v, s.parent, 0) };
    const out = decoderLayer(c, i, x, past, undefined, s.cross[i]!, s.memoryMask);
    x = out.x;
    cache.push(out.self);
  }
  return { logits: ops.reshape(project(c, x), [0, -1]), cache }; // (N,V)
}
