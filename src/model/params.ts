// Every parameter and buffer of the model: state-dict name, shape and how it is initialised.
// The forward (src/model/nast.ts) reads exactly these names through Ops.param; src/eager/init.ts creates them,
// and checkParams (no libtorch, so that nast export uses it too) checks a checkpoint's state dict against them.
// Initialisations follow the reference (docs/model.md §4.5, fairseq/ESPnet modules) where it is known, torch's
// defaults otherwise, and LiSA's identity-at-start scheme (§7.3).
import { isArConfig, type ArConfig, type EncoderConfig, type ModelConfig, type NastConfig } from "./config.ts";

export type InitSpec =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "normal"; std: number }
  /** U(−bound, bound): torch's default for Linear/Conv (bound = 1/√fan_in) and xavier (gain·√(6/(fan_in+fan_out))). */
  | { kind: "uniform"; bound: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: InitSpec;
  /** Buffers (batch-norm running statistics) are state but not trained. */
  buffer?: boolean;
}

export interface ParamSpecOptions {
  /**
   * Retro-fitting LiSA onto a trained model (docs/model.md §7.6): also list the full-attention Q/K (and
   * position) parameters of LiSA layers, so that the forward can compute what the full layer would have
   * attended to (the target of the attention KL term). The trained checkpoint supplies their values.
   */
  teacher?: boolean;
}

const zeros: InitSpec = { kind: "zeros" };
const ones: InitSpec = { kind: "ones" };

/** torch.nn.Linear / Conv1d default: kaiming_uniform(a=√5) for the weight and U(±1/√fan_in) for the bias. */
function torchDefault(fanIn: number): InitSpec {
  return { kind: "uniform", bound: 1 / Math.sqrt(fanIn) };
}

function xavier(fanIn: number, fanOut: number, gain = 1): InitSpec {
  return { kind: "uniform", bound: gain * Math.sqrt(6 / (fanIn + fanOut)) };
}

class SpecList {
  readonly specs: ParamSpec[] = [];
  add(name: string, shape: number[], init: InitSpec, buffer = false): void {
    this.specs.push(buffer ? { name, shape, init, buffer } : { name, shape, init });
  }
  linear(prefix: string, out: number, inp: number, opts: { bias?: boolean; weight?: InitSpec; biasInit?: InitSpec } = {}): void {
    this.add(`${prefix}.weight`, [out, inp], opts.weight ?? torchDefault(inp));
    if (opts.bias ?? true) this.add(`${prefix}.bias`, [out], opts.biasInit ?? torchDefault(inp));
  }
  layerNorm(prefix: string, d: number): void {
    this.add(`${prefix}.weight`, [d], ones);
    this.add(`${prefix}.bias`, [d], zeros);
  }
}

/** Where LiSA layers are (0-based layer index sets), for the forward and the specs alike. */
export function isLisaLayer(cfg: EncoderConfig, encoder: "acoustic" | "textual", index0: number): boolean {
  return cfg.lisa[encoder].includes(index0 + 1);
}

/** The textual layer (0-based) holds a cross-attention to the CLA memory. */
export function isClaLayer(cfg: NastConfig, index0: number): boolean {
  return cfg.textual.cla.enabled && index0 + 1 > cfg.textual.cla.memoryLayer;
}

/** The parameters of either model, in a fixed order (initialisation draws them in it). */
export function paramSpecs(cfg: ModelConfig, opts: ParamSpecOptions = {}): ParamSpec[] {
  return isArConfig(cfg) ? arParamSpecs(cfg, opts) : nastParamSpecs(cfg, opts);
}

/** The front end and the acoustic encoder, shared by both models (docs/model.md §2-§3). */
function encoderSpecs(s: SpecList, cfg: EncoderConfig, opts: ParamSpecOptions): void {
  const d = cfg.dModel;
  const H = cfg.heads;
  const dh = d / H;
  // Subsampler (§2.2): Conv1d(k, stride 2) + GLU per layer; the last outputs 2d channels → d.
  const { layers: nSub, channels, kernel } = cfg.subsampler;
  for (let i = 0; i < nSub; i++) {
    const inCh = i === 0 ? cfg.inputDim : channels / 2;
    const outCh = i === nSub - 1 ? 2 * d : channels;
    s.add(`subsampler.conv.${i}.weight`, [outCh, inCh, kernel], torchDefault(inCh * kernel));
    s.add(`subsampler.conv.${i}.bias`, [outCh], torchDefault(inCh * kernel));
  }
  s.layerNorm("embed_norm", d);

  // Acoustic Conformer layers (§3.1).
  for (let i = 0; i < cfg.acoustic.layers; i++) {
    const p = `acoustic.layers.${i}`;
    const lisa = isLisaLayer(cfg, "acoustic", i);
    const f = cfg.acoustic.ffnDim;
    s.layerNorm(`${p}.ffn_macaron.norm`, d);
    s.linear(`${p}.ffn_macaron.fc1`, f, d);
    s.linear(`${p}.ffn_macaron.fc2`, d, f);
    s.layerNorm(`${p}.attn_norm`, d);
    if (!lisa || opts.teacher) relPosQK(s, `${p}.attn`, d, H, dh);
    if (lisa) lisaSpecs(s, cfg, `${p}.attn.lisa`);
    s.linear(`${p}.attn.v`, d, d);
    s.linear(`${p}.attn.out`, d, d);
    s.layerNorm(`${p}.conv.norm`, d);
    const k = cfg.acoustic.convKernel;
    s.add(`${p}.conv.pw1.weight`, [2 * d, d, 1], torchDefault(d));
    s.add(`${p}.conv.dw.weight`, [d, 1, k], torchDefault(k));
    s.add(`${p}.conv.bn.weight`, [d], ones);
    s.add(`${p}.conv.bn.bias`, [d], zeros);
    s.add(`${p}.conv.bn.running_mean`, [d], zeros, true);
    s.add(`${p}.conv.bn.running_var`, [d], ones, true);
    s.add(`${p}.conv.pw2.weight`, [d, d, 1], torchDefault(d));
    s.layerNorm(`${p}.ffn.norm`, d);
    s.linear(`${p}.ffn.fc1`, f, d);
    s.linear(`${p}.ffn.fc2`, d, f);
    s.layerNorm(`${p}.final_norm`, d);
    if (cfg.acoustic.interCtcLayers.includes(i + 1)) s.layerNorm(`${p}.inter_norm`, d);
  }
  s.layerNorm("acoustic.final_norm", d);
}

function nastParamSpecs(cfg: NastConfig, opts: ParamSpecOptions): ParamSpec[] {
  const d = cfg.dModel;
  const V = cfg.vocabSize;
  const s = new SpecList();
  encoderSpecs(s, cfg, opts);

  // One CTC projection for both heads = fairseq embed_tokens, N(0, d^-0.5); biases per head, zero (§4.5).
  s.add("ctc.weight", [V, d], { kind: "normal", std: d ** -0.5 });
  s.add("ctc.src_bias", [V], zeros);
  s.add("ctc.tgt_bias", [V], zeros);
  // Expected-embedding tables of PAE and the adapter: separate, N(0, d^-0.5) (adapter.py L135-L139).
  if (cfg.acoustic.pae && cfg.acoustic.interCtcLayers.length > 0) s.add("pae.src", [V, d], { kind: "normal", std: d ** -0.5 });
  if (cfg.adapter) s.add("adapter.embed", [V, d], { kind: "normal", std: d ** -0.5 });
  if (cfg.textual.pae && cfg.textual.interCtcLayers.length > 0) s.add("pae.tgt", [V, d], { kind: "normal", std: d ** -0.5 });

  // Textual encoder (§4.2): fairseq MultiheadAttention init (xavier, q/k/v gain 1/√2, out bias 0).
  for (let i = 0; i < cfg.textual.layers; i++) {
    const p = `textual.layers.${i}`;
    const lisa = isLisaLayer(cfg, "textual", i);
    const f = cfg.textual.ffnDim;
    s.layerNorm(`${p}.attn_norm`, d);
    if (!lisa || opts.teacher) {
      s.linear(`${p}.attn.q`, d, d, { weight: xavier(d, d, Math.SQRT1_2) });
      s.linear(`${p}.attn.k`, d, d, { weight: xavier(d, d, Math.SQRT1_2) });
    }
    if (lisa) lisaSpecs(s, cfg, `${p}.attn.lisa`);
    s.linear(`${p}.attn.v`, d, d, { weight: xavier(d, d, Math.SQRT1_2) });
    s.linear(`${p}.attn.out`, d, d, { weight: xavier(d, d), biasInit: zeros });
    if (isClaLayer(cfg, i)) {
      s.layerNorm(`${p}.cross_norm`, d);
      for (const m of ["q", "k", "v"]) s.linear(`${p}.cross.${m}`, d, d, { weight: xavier(d, d, Math.SQRT1_2) });
      s.linear(`${p}.cross.out`, d, d, { weight: xavier(d, d), biasInit: zeros });
    }
    s.layerNorm(`${p}.ffn.norm`, d);
    s.linear(`${p}.ffn.fc1`, f, d, { weight: xavier(d, f), biasInit: zeros });
    s.linear(`${p}.ffn.fc2`, d, f, { weight: xavier(f, d), biasInit: zeros });
    if (cfg.textual.interCtcLayers.includes(i + 1)) s.layerNorm(`${p}.inter_norm`, d);
    if (cfg.textual.cla.enabled && i + 1 === cfg.textual.cla.memoryLayer) s.layerNorm("textual.memory_norm", d);
  }
  s.layerNorm("textual.final_norm", d);
  return s.specs;
}

/**
 * The autoregressive counterpart (docs/model.md §10): the encoder and its source CTC head (the same names as in
 * CTC-NAST), and a pre-LN Transformer decoder whose target embedding is also its output projection (fairseq
 * share_decoder_input_output_embed; Embedding init N(0, d^-0.5), MultiheadAttention and FFN init as in the
 * textual encoder).
 */
function arParamSpecs(cfg: ArConfig, opts: ParamSpecOptions): ParamSpec[] {
  const d = cfg.dModel;
  const V = cfg.vocabSize;
  const s = new SpecList();
  encoderSpecs(s, cfg, opts);
  s.add("ctc.weight", [V, d], { kind: "normal", std: d ** -0.5 });
  s.add("ctc.src_bias", [V], zeros);
  if (cfg.acoustic.pae && cfg.acoustic.interCtcLayers.length > 0) s.add("pae.src", [V, d], { kind: "normal", std: d ** -0.5 });
  s.add("decoder.embed.weight", [V, d], { kind: "normal", std: d ** -0.5 });
  const f = cfg.decoder.ffnDim;
  for (let i = 0; i < cfg.decoder.layers; i++) {
    const p = `decoder.layers.${i}`;
    for (const block of ["self", "cross"]) {
      s.layerNorm(`${p}.${block}_norm`, d);
      for (const m of ["q", "k", "v"]) s.linear(`${p}.${block}.${m}`, d, d, { weight: xavier(d, d, Math.SQRT1_2) });
      s.linear(`${p}.${block}.out`, d, d, { weight: xavier(d, d), biasInit: zeros });
    }
    s.layerNorm(`${p}.ffn.norm`, d);
    s.linear(`${p}.ffn.fc1`, f, d, { weight: xavier(d, f), biasInit: zeros });
    s.linear(`${p}.ffn.fc2`, d, f, { weight: xavier(f, d), biasInit: zeros });
  }
  s.layerNorm("decoder.final_norm", d);
  return s.specs;
}

/** ESPnet RelPositionMultiHeadedAttention's Q, K and position parameters (docs/model.md §3.2). */
function relPosQK(s: SpecList, p: string, d: number, H: number, dh: number): void {
  s.linear(`${p}.q`, d, d);
  s.linear(`${p}.k`, d, d);
  s.linear(`${p}.pos`, d, d, { bias: false });
  // torch xavier_uniform on an (H, dh) matrix: fan_in = dh, fan_out = H.
  s.add(`${p}.pos_bias_u`, [H, dh], xavier(dh, H));
  s.add(`${p}.pos_bias_v`, [H, dh], xavier(dh, H));
}

/**
 * A LiSA layer's own parameters (docs/model.md §7.2-§7.3): the head-alignment FFN (zero-init output, so it
 * starts as the identity through its residual) and the low-rank Q'/K' (Q' and its bias u zero-init, so
 * the difference Δ starts at 0). At initialisation the layer attends exactly as the previous layer.
 */
function lisaSpecs(s: SpecList, cfg: EncoderConfig, p: string): void {
  const { rank: r, ffnDim: hf } = cfg.lisa;
  const d = cfg.dModel;
  const H = cfg.heads;
  s.linear(`${p}.head_fc1`, hf, H);
  s.linear(`${p}.head_fc2`, H, hf, { weight: zeros, biasInit: zeros });
  s.add(`${p}.q_lr.weight`, [r, d], zeros);
  s.add(`${p}.k_lr.weight`, [r, d], xavier(d, r));
  s.add(`${p}.u`, [H, r / H], zeros);
}

/** The parameters a LiSA retro-fit trains (the rest stays frozen): every LiSA module's parameters. */
export function lisaParamNames(cfg: ModelConfig): string[] {
  return paramSpecs(cfg)
    .map((p) => p.name)
    .filter((n) => n.includes(".attn.lisa."));
}

/** The autoregressive decoder's parameters: what `nast train --init-encoder` starts from random values. */
export function arDecoderParamNames(cfg: ArConfig): string[] {
  return arParamSpecs(cfg, {})
    .map((p) => p.name)
    .filter((n) => n.startsWith("decoder."));
}

/** Number of trained parameters (buffers excluded). */
export function countParams(specs: ParamSpec[]): number {
  let n = 0;
  for (const p of specs) if (!p.buffer) n += p.shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Parameters that score attention in the self-attention layers (full: Q, K and, in the Conformer, linear_pos
 * and the u/v biases; LiSA: W_Q^LR, W_K^LR, u and the head FFN), for the "Q/K compression" figure of
 * docs/model.md §7.7. V and output projections are left out: LiSA keeps them.
 */
export function attentionScoringParams(cfg: ModelConfig): number {
  const scoring = /\.attn\.(q|k|pos|pos_bias_u|pos_bias_v|lisa\.[a-z_0-9]+)(\.weight|\.bias)?$/;
  return countParams(paramSpecs(cfg).filter((p) => scoring.test(p.name)));
}

/**
 * Checks a state dict (e.g. read from a checkpoint) against the specs: every name present with its shape and,
 * unless `ignoreExtra` (nast export, which writes only what the forward reads), nothing unexpected. The error
 * lists what is wrong, naming `source`.
 */
export function checkParams(
  specs: readonly ParamSpec[],
  params: ReadonlyMap<string, { shape: readonly number[] }>,
  source: string,
  opts: { ignoreExtra?: boolean } = {},
): void {
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const s of specs) {
    expected.add(s.name);
    const t = params.get(s.name);
    if (t === undefined) problems.push(`'${s.name}' is missing (the config needs [${s.shape}])`);
    else if (t.shape.length !== s.shape.length || t.shape.some((n, i) => n !== s.shape[i])) {
      problems.push(`'${s.name}' has shape [${t.shape}] but the config needs [${s.shape}]`);
    }
  }
  if (opts.ignoreExtra !== true) for (const name of params.keys()) if (!expected.has(name)) problems.push(`unexpected '${name}'`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join("; ");
    const more = problems.length > 8 ? ` (and ${problems.length - 8} more)` : "";
    throw new Error(`${source}: the weights do not match the model config: ${shown}${more}`);
  }
}
