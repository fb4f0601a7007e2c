// The encoder layers: the Conformer layer of the acoustic encoder (docs/model.md §3.1) and the pre-LN
// Transformer layer of the textual encoder, with CLA cross-attention and drop-net above the memory layer (§4.2-§4.3).
// x is (B, T, d) throughout; `mask` (B, T) is true at padded positions, `keyMask` is it as (B, 1, 1, T).
import { crossAttention, selfAttention } from "./attention.ts";
import type { EncoderConfig } from "./config.ts";
import type { ModelContext } from "./context.ts";
import { isClaLayer, isLisaLayer } from "./params.ts";

const LN_EPS = 1e-5;
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

export function layerNorm<T>(c: ModelContext<T, EncoderConfig>, x: T, prefix: string): T {
  return c.ops.layerNorm(x, c.ops.param(`${prefix}.weight`), c.ops.param(`${prefix}.bias`), LN_EPS);
}

function linear<T>(c: ModelContext<T, EncoderConfig>, x: T, prefix: string): T {
  return c.ops.linear(x, c.ops.param(`${prefix}.weight`), c.ops.param(`${prefix}.bias`));
}

/** Position-wise FFN: fc1 → act → dropout → fc2 → dropout (Swish in the Conformer, ReLU in the textual encoder and the decoder). */
export function feedForward<T>(c: ModelContext<T, EncoderConfig>, x: T, prefix: string, act: "swish" | "relu"): T {
  const { ops, cfg } = c;
  const h = linear(c, x, `${prefix}.fc1`);
  const a = act === "swish" ? ops.silu(h) : ops.relu(h);
  return ops.dropout(linear(c, ops.dropout(a, cfg.activationDropout), `${prefix}.fc2`), cfg.dropout);
}

/**
 * Conformer convolution module (S2T convolution.py): zero padding → pointwise (d → 2d) → GLU → depthwise
 * (k, groups d) → BatchNorm → activation (ReLU in the reference, §3.3) → pointwise → zero padding → dropout.
 * Zeroing the padding before the depthwise conv keeps valid frames independent of how much padding follows.
 */
function convModule<T>(c: ModelContext<T, EncoderConfig>, x: T, prefix: string, mask: T): T {
  const { ops, cfg } = c;
  const P = (n: string) => ops.param(`${prefix}.${n}`);
  const timeMask = ops.unsqueeze(mask, 2); // (B,T,1)
  let y = ops.transpose(ops.maskedFill(x, timeMask, 0), [0, 2, 1]); // (B,d,T)
  y = ops.glu(ops.conv1d(y, P("pw1.weight"), undefined, { stride: 1, padding: 0 }), 1); // (B,2d,T) → (B,d,T)
  const k = cfg.acoustic.convKernel;
  y = ops.conv1d(y, P("dw.weight"), undefined, { stride: 1, padding: (k - 1) / 2, groups: cfg.dModel }); // (B,d,T)
  y = ops.batchNorm(y, `${prefix}.bn`, BN_EPS, BN_MOMENTUM);
  y = cfg.acoustic.convActivation === "relu" ? ops.relu(y) : ops.silu(y);
  y = ops.conv1d(y, P("pw2.weight"), undefined, { stride: 1, padding: 0 }); // (B,d,T)
  y = ops.maskedFill(ops.transpose(y, [0, 2, 1]), timeMask, 0); // (B,T,d)
  return ops.dropout(y, cfg.dropout);
}

export interface LayerIO<T> {
  x: T;
  /** What this layer's self-attention shares with the next layer (B, H, T, T). */
  shared: T;
}

/** One Conformer layer (macaron, pre-LN; s2t_transformer_layer.py L229-L322). i is 0-based. */
export function conformerLayer<T>(c: ModelContext<T, EncoderConfig>, i: number, x: T, pos: T, mask: T, keyMask: T, previous: T | undefined): LayerIO<T> {
  const { ops, cfg } = c;
  const p = `acoustic.layers.${i}`;
  x = ops.add(x, ops.mul(feedForward(c, layerNorm(c, x, `${p}.ffn_macaron.norm`), `${p}.ffn_macaron`, "swish"), 0.5));
  const lisa = isLisaLayer(cfg, "acoustic", i);
  const attn = selfAttention(c, {
    prefix: `${p}.attn`,
    encoder: "acoustic",
    layer: i + 1,
    x: layerNorm(c, x, `${p}.attn_norm`),
    keyMask,
    pos,
    lisa,
    ...(previous !== undefined ? { previous } : {}),
  });
  x = ops.add(x, ops.dropout(attn.out, cfg.dropout));
  x = ops.add(x, convModule(c, layerNorm(c, x, `${p}.conv.norm`), `${p}.conv`, mask));
  x = ops.add(x, ops.mul(feedForward(c, layerNorm(c, x, `${p}.ffn.norm`), `${p}.ffn`, "swish"), 0.5));
  return { x: layerNorm(c, x, `${p}.final_norm`), shared: attn.shared };
}

/**
 * One textual layer (fairseq pre-LN TransformerEncoderLayer; above the CLA memory layer the "serial"
 * TransformerS2EncoderLayer): self-attention, [drop-net-able; cross-attention to M], FFN. i is 0-based.
 */
export function textualLayer<T>(c: ModelContext<T>, i: number, x: T, memory: T | undefined, keyMask: T, previous: T | undefined): LayerIO<T> {
  const { ops, cfg } = c;
  const p = `textual.layers.${i}`;
  const attn = selfAttention(c, {
    prefix: `${p}.attn`,
    encoder: "textual",
    layer: i + 1,
    x: layerNorm(c, x, `${p}.attn_norm`),
    keyMask,
    lisa: isLisaLayer(cfg, "textual", i),
    ...(previous !== undefined ? { previous } : {}),
  });
  const selfOut = ops.dropout(attn.out, cfg.dropout);
  if (isClaLayer(cfg, i)) {
    if (memory === undefined) throw new Error(`${p}: a CLA layer needs the memory`);
    // Drop-net (transformer_s2_layer.py): skip the self-attention branch with probability p while training.
    // The logits are still handed on (§7.4), so a LiSA chain stays defined.
    const skip = ops.training && cfg.textual.cla.dropNet > 0 && c.random() < cfg.textual.cla.dropNet;
    if (!skip) x = ops.add(x, selfOut);
    const cross = crossAttention(c, `${p}.cross`, layerNorm(c, x, `${p}.cross_norm`), memory, keyMask);
    x = ops.add(x, ops.dropout(cross, cfg.dropout));
  } else {
    x = ops.add(x, selfOut);
  }
  x = ops.add(x, feedForward(c, layerNorm(c, x, `${p}.ffn.norm`), `${p}.ffn`, "relu"));
  return { x, shared: attn.shared };
}
