// CTC-NAST (Xu et al., ACL 2023) with LiSA attention sharing (Mu et al.), top to bottom as the block diagram
// of docs/model.md §1.2. Written once against Ops<T> (./ops.ts): eager libtorch runs it for training, the ONNX
// graph builder runs it for export. No data-dependent control flow: branches depend only on the config,
// on ops.training (dropout, drop-net) and on which options were passed.
//
//   fbank (B,T,80) → subsampler (4x) → LayerNorm, rel-pos table, dropout                      (B,T',d)
//   → acoustic encoder: Conformer layers; InterCTC(src) + PAE_src after the configured layers
//   → final LN = h → source CTC (one weight matrix shared with the target CTC)                (B,T',V)
//   → adapter: h + softmax(z_src)·E_adapter
//   → textual encoder: plain layers up to the CLA memory layer, M = LN(x); above it
//     self-attn (drop-net) + cross-attn to M + FFN; InterCTC(tgt) + PAE_tgt (curriculum oracle mixing)
//   → final LN → target CTC                                                                    (B,T',V)
import type { NastConfig } from "./config.ts";
import type { AttentionRecord, ModelContext } from "./context.ts";
import { acousticEncoder, ctcLogits, interCtc, type Oracle } from "./encoder.ts";
import { layerNorm, textualLayer } from "./layers.ts";
import type { Ops } from "./ops.ts";

export interface ForwardOptions<T> {
  /** Training pass 2 of the curriculum: mix the oracle into every target PAE (eager only). */
  oracle?: Oracle<T>;
  /** Return an AttentionRecord per self-attention layer (analysis, LiSA KL). */
  attention?: boolean;
  /** LiSA retro-fit: LiSA layers' records also hold the full layer's attention (needs paramSpecs(cfg, {teacher: true})). */
  teacher?: boolean;
  /** Uniform [0,1) source for drop-net; default Math.random. Pass a seeded one for reproducible training. */
  random?: () => number;
}

export interface NastOutput<T> {
  /** Source (transcript) CTC logits at the top of the acoustic encoder (B, T', V). */
  srcLogits: T;
  /** Target (translation) CTC logits at the top of the textual encoder (B, T', V): decode these. */
  tgtLogits: T;
  /** Valid positions per utterance (B) int64: the subsampled input lengths. */
  outLengths: T;
  /** (B, T') bool, true at padded positions. */
  padMask: T;
  /** Intermediate source CTC logits, one per acoustic.interCtcLayers entry, in order. */
  interSrcLogits: T[];
  /** Intermediate target CTC logits, one per textual.interCtcLayers entry (the model's own, not oracle-mixed). */
  interTgtLogits: T[];
  /** With opts.attention: one per self-attention layer, acoustic then textual; with only opts.teacher: the LiSA layers'. */
  attention?: AttentionRecord<T>[];
}

export function forward<T>(ops: Ops<T>, cfg: NastConfig, feats: T, lengths: T, opts: ForwardOptions<T> = {}): NastOutput<T> {
  const c: ModelContext<T> = {
    ops,
    cfg,
    random: opts.random ?? Math.random,
    record: opts.attention === true,
    teacher: opts.teacher === true,
    records: [],
  };
  const { h, srcLogits, interSrcLogits, outLengths, padMask, keyMask } = acousticEncoder(c, feats, lengths);

  // Adapter "inter_league" (§4.1): the expected source-token embedding added to h; length unchanged.
  let x = cfg.adapter ? ops.add(h, ops.matmul(ops.softmax(srcLogits, 2), ops.param("adapter.embed"))) : h;

  // Textual encoder: no positional encoding, no input dropout (§4.2).
  const interTgtLogits: T[] = [];
  let memory: T | undefined;
  let shared: T | undefined;
  for (let i = 0; i < cfg.textual.layers; i++) {
    ({ x, shared } = textualLayer(c, i, x, memory, keyMask, shared));
    if (cfg.textual.cla.enabled && i + 1 === cfg.textual.cla.memoryLayer) memory = layerNorm(c, x, "textual.memory_norm");
    if (cfg.textual.interCtcLayers.includes(i + 1)) {
      const inter = interCtc(c, x, `textual.layers.${i}.inter_norm`, "ctc.tgt_bias", cfg.textual.pae ? "pae.tgt" : undefined, opts.oracle);
      interTgtLogits.push(inter.logits);
      x = inter.x;
    }
  }
  const tgtLogits = ctcLogits(c, layerNorm(c, x, "textual.final_norm"), "ctc.tgt_bias"); // (B,T',V)

  return {
    srcLogits,
    tgtLogits,
    outLengths,
    padMask,
    interSrcLogits,
    interTgtLogits,
    ...(c.record || c.teacher ? { attention: c.records } : {}),
  };
}

