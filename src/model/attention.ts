// Attention: ESPnet relative-position self-attention (Conformer), fairseq multi-head attention (textual
// encoder, CLA cross-attention), and LiSA layers that reuse the previous layer's attention
// (docs/model.md §3.2, §4.2-§4.3, §7.2, §7.4). Every self-attention layer returns what it shares with the next
// one: its pre-softmax logits before masking (shareSpace "logits") or its attention weights ("probs").
// Shapes: B batch, T positions, d model width, H heads, dh = d/H, r LiSA rank, rh = r/H.
import type { EncoderConfig } from "./config.ts";
import { MASK_VALUE, type ModelContext } from "./context.ts";

export interface SelfAttentionArgs<T> {
  /** State-dict prefix, e.g. "acoustic.layers.4.attn". */
  prefix: string;
  encoder: "acoustic" | "textual";
  /** 1-based layer number (for attention records). */
  layer: number;
  /** Layer-normalised input (B, T, d). */
  x: T;
  /** (B, 1, 1, T) bool, true at padded keys. */
  keyMask: T;
  /** Relative-position table (1, 2T−1, d) for Conformer layers; absent in the textual encoder. */
  pos?: T;
  /** This layer is a LiSA layer fed by `previous`. */
  lisa: boolean;
  /** What the previous self-attention layer shared (B, H, T, T); required for a LiSA layer. */
  previous?: T;
}

export interface SelfAttentionResult<T> {
  /** (B, T, d), before the residual dropout. */
  out: T;
  /** (B, H, T, T) handed to the next layer: logits before masking, or masked attention weights. */
  shared: T;
}

/** (B, T, d) → (B, H, T, dh). */
export function splitHeads<T>(c: ModelContext<T, EncoderConfig>, x: T, width: number): T {
  const { ops } = c;
  return ops.transpose(ops.reshape(x, [0, 0, c.cfg.heads, width]), [0, 2, 1, 3]);
}

/** (B, H, T, dh) → (B, T, d). */
export function mergeHeads<T>(c: ModelContext<T, EncoderConfig>, x: T): T {
  const { ops } = c;
  return ops.reshape(ops.transpose(x, [0, 2, 1, 3]), [0, 0, c.cfg.dModel]);
}

/**
 * Full self-attention logits (B, H, T, T) before masking. Conformer (ESPnet rel-pos, Transformer-XL):
 * ((q+u)·kᵀ + rel_shift((q+v)·pᵀ)) / √dh. Textual (fairseq): (q/√dh)·kᵀ.
 */
function fullLogits<T>(c: ModelContext<T, EncoderConfig>, prefix: string, x: T, pos: T | undefined): T {
  const { ops, cfg } = c;
  const dh = cfg.dModel / cfg.heads;
  const P = (n: string) => ops.param(`${prefix}.${n}`);
  const k = ops.transpose(ops.reshape(ops.linear(x, P("k.weight"), P("k.bias")), [0, 0, cfg.heads, dh]), [0, 2, 3, 1]); // (B,H,dh,T)
  if (pos === undefined) {
    const q = splitHeads(c, ops.mul(ops.linear(x, P("q.weight"), P("q.bias")), dh ** -0.5), dh); // (B,H,T,dh)
    return ops.matmul(q, k);
  }
  const q = ops.reshape(ops.linear(x, P("q.weight"), P("q.bias")), [0, 0, cfg.heads, dh]); // (B,T,H,dh)
  const qu = ops.transpose(ops.add(q, P("pos_bias_u")), [0, 2, 1, 3]); // (B,H,T,dh)
  const qv = ops.transpose(ops.add(q, P("pos_bias_v")), [0, 2, 1, 3]);
  const p = ops.transpose(ops.reshape(ops.linear(pos, P("pos.weight")), [1, -1, cfg.heads, dh]), [0, 2, 3, 1]); // (1,H,dh,2T−1)
  const content = ops.matmul(qu, k); // (B,H,T,T)
  const position = ops.relShift(ops.matmul(qv, p)); // (B,H,T,2T−1) → (B,H,T,T)
  return ops.mul(ops.add(content, position), dh ** -0.5);
}

/**
 * LiSA head alignment (§7.2 a): a tiny FFN over the head axis at every (i, j), with a residual so that the
 * zero-initialised output layer makes it the identity at the start: Ŝ = S + W2·φ(W1·S + b1) + b2.
 * The heads stay in place and the positions are flattened: each layer is one (H_f × H) · (H × T²) product
 * per utterance, with no transpose of a (B, T, T, H) tensor. In onnxruntime on the CPU this is 1.5-6x faster
 * than heads-last linears and than 1×1 convolutions at T' = 125-500, with the same sums in the same order
 * (bit-identical outputs); `nast bench lisa` times the layer.
 */
function alignHeads<T>(c: ModelContext<T, EncoderConfig>, prefix: string, s: T): T {
  const { ops, cfg } = c;
  const P = (n: string) => ops.param(`${prefix}.${n}`);
  const flat = ops.reshape(s, [0, cfg.heads, -1]); // (B,H,T·T)
  const pre = ops.add(ops.matmul(P("head_fc1.weight"), flat), ops.unsqueeze(P("head_fc1.bias"), 1)); // (B,Hf,T·T)
  const act = cfg.lisa.activation === "gelu" ? ops.gelu(pre) : ops.silu(pre);
  const mix = ops.add(ops.matmul(P("head_fc2.weight"), act), ops.unsqueeze(P("head_fc2.bias"), 1)); // (B,H,T·T)
  return ops.add(s, ops.reshapeLike(mix, s)); // (B,H,T,T)
}

/** LiSA low-rank difference (§7.2 b): Δ = (Q' + u)·K'ᵀ / √rh with Q' = X·W_Q^LR, K' = X·W_K^LR. */
function lowRankDelta<T>(c: ModelContext<T, EncoderConfig>, prefix: string, x: T): T {
  const { ops, cfg } = c;
  const rh = cfg.lisa.rank / cfg.heads;
  const P = (n: string) => ops.param(`${prefix}.${n}`);
  const q = ops.reshape(ops.linear(x, P("q_lr.weight")), [0, 0, cfg.heads, rh]); // (B,T,H,rh)
  const qu = ops.transpose(ops.add(q, P("u")), [0, 2, 1, 3]); // (B,H,T,rh)
  const k = ops.transpose(ops.reshape(ops.linear(x, P("k_lr.weight")), [0, 0, cfg.heads, rh]), [0, 2, 3, 1]); // (B,H,rh,T)
  return ops.mul(ops.matmul(qu, k), rh ** -0.5);
}

function maskedSoftmax<T>(c: ModelContext<T, EncoderConfig>, logits: T, keyMask: T): T {
  return c.ops.softmax(c.ops.maskedFill(logits, keyMask, MASK_VALUE), 3);
}

function maskedLogSoftmax<T>(c: ModelContext<T, EncoderConfig>, logits: T, keyMask: T): T {
  return c.ops.logSoftmax(c.ops.maskedFill(logits, keyMask, MASK_VALUE), 3);
}

/**
 * A self-attention layer, full or LiSA. LiSA layers keep their own V and output projections (§7.2 d) and,
 * in the Conformer, no position terms of their own: the shared logits already hold the previous layer's (§7.4).
 */
export function selfAttention<T>(c: ModelContext<T, EncoderConfig>, a: SelfAttentionArgs<T>): SelfAttentionResult<T> {
  const { ops, cfg } = c;
  const dh = cfg.dModel / cfg.heads;
  const share = cfg.lisa.shareSpace;
  let logits: T | undefined;
  let probs: T;
  if (!a.lisa) {
    logits = fullLogits(c, a.prefix, a.x, a.pos);
    probs = maskedSoftmax(c, logits, a.keyMask);
  } else {
    if (a.previous === undefined) throw new Error(`${a.prefix}: a LiSA layer needs the previous layer's attention`);
    const aligned = alignHeads(c, `${a.prefix}.lisa`, a.previous);
    const delta = lowRankDelta(c, `${a.prefix}.lisa`, a.x);
    if (share === "logits") {
      logits = ops.add(aligned, delta);
      probs = maskedSoftmax(c, logits, a.keyMask);
    } else {
      // Mixed weights can leave the simplex: clip at 0, zero the padded keys, renormalise each row.
      const w = ops.maskedFill(ops.relu(ops.add(aligned, delta)), a.keyMask, 0);
      probs = ops.div(w, ops.add(ops.unsqueeze(ops.sum(w, 3), 3), 1e-9));
    }
  }
  if (c.record || (c.teacher && a.lisa)) {
    const teacherLogProbs = a.lisa && c.teacher ? maskedLogSoftmax(c, fullLogits(c, a.prefix, a.x, a.pos), a.keyMask) : undefined;
    c.records.push({
      encoder: a.encoder,
      layer: a.layer,
      lisa: a.lisa,
      ...(logits !== undefined ? { logits } : {}),
      probs,
      logProbs: logits !== undefined ? maskedLogSoftmax(c, logits, a.keyMask) : ops.log(ops.add(probs, 1e-30)),
      ...(teacherLogProbs !== undefined ? { teacherLogProbs } : {}),
    });
  }
  const v = splitHeads(c, ops.linear(a.x, ops.param(`${a.prefix}.v.weight`), ops.param(`${a.prefix}.v.bias`)), dh);
  const context = ops.matmul(ops.dropout(probs, cfg.attentionDropout), v); // (B,H,T,dh)
  const out = ops.linear(mergeHeads(c, context), ops.param(`${a.prefix}.out.weight`), ops.param(`${a.prefix}.out.bias`));
  const shared = share === "logits" ? (logits as T) : probs;
  return { out, shared };
}

/** CLA cross-attention (§4.3): queries from the layer input, keys and values from the memory M. */
export function crossAttention<T>(c: ModelContext<T, EncoderConfig>, prefix: string, x: T, memory: T, keyMask: T): T {
  const { ops, cfg } = c;
  const dh = cfg.dModel / cfg.heads;
  const P = (n: string) => ops.param(`${prefix}.${n}`);
  const q = splitHeads(c, ops.mul(ops.linear(x, P("q.weight"), P("q.bias")), dh ** -0.5), dh); // (B,H,T,dh)
  const k = ops.transpose(ops.reshape(ops.linear(memory, P("k.weight"), P("k.bias")), [0, 0, cfg.heads, dh]), [0, 2, 3, 1]);
  const v = splitHeads(c, ops.linear(memory, P("v.weight"), P("v.bias")), dh);
  const probs = ops.softmax(ops.maskedFill(ops.matmul(q, k), keyMask, MASK_VALUE), 3);
  return ops.linear(mergeHeads(c, ops.matmul(ops.dropout(probs, cfg.attentionDropout), v)), P("out.weight"), P("out.bias"));
}
