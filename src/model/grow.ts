// Growing a trained CTC-NAST model into a larger one that computes the same function (Net2Net, Chen et al.,
// ICLR 2016: a wider or deeper network initialised to the smaller one's function, then trained on): new
// layers inserted between trained ones and wider FFNs, so that a larger model starts where the trained one
// is instead of on the CTC plateau that a deep model from scratch needs thousands of updates to leave
// (models/default/MODEL_CARD.md, "How to train a model that can do more": `base` from scratch, 2,800 updates).
//
// Why each grown part starts as the identity (docs/model.md §3.1, §4.2, §7.3):
// - a wider FFN: the new hidden units have fresh fc1 rows but zero fc2 columns, so they add nothing;
// - a new textual layer (pre-LN, no norm of its own on the residual path): its self-attention, cross-attention
//   and FFN output projections are zero, so x + 0 + 0 + 0 = x;
// - a new Conformer layer: the same zero output projections (macaron FFN, attention, the conv module's second
//   point-wise conv, FFN), but every Conformer layer ends in its own LayerNorm. The layer it follows therefore
//   hands on its normalised output n = LN(z) with gain 1 and bias 0, and the last new layer of the run takes that
//   layer's trained gain g and bias b: LN(n)·g + b = n·g + b to within LayerNorm's ε (relative 1e-5 / 2).
//   That needs the layer's output to go straight on; after an InterCTC layer it is first mixed with the PAE
//   embedding (docs/model.md §3.4), so no layer may be inserted after one;
// - LiSA: a new layer is a LiSA layer when the trained layer after it is one, so that the chain of shared
//   logits is unbroken; a new LiSA layer starts as the identity on the logits it is handed (§7.3: zero
//   head-FFN output and zero Q'), so it hands on exactly what it received. Otherwise it is a full layer, whose
//   logits the full layer after it never reads.
import { numel, type HostTensor } from "../formats/safetensors.ts";
import { ConfigError, validateConfig, type NastConfig } from "./config.ts";
import { isLisaLayer, paramSpecs } from "./params.ts";

/** What to add: new layers after trained ones (1-based; textual 0 is before layer 1; a number given twice adds two) and FFN widths. */
export interface GrowPlan {
  acousticAfter: number[];
  textualAfter: number[];
  acousticFfnDim?: number;
  textualFfnDim?: number;
}

/** Each layer of the grown stack: the trained layer it is (0-based), or a new one inserted after trained layer `after` (1-based). */
export type GrownLayer = { source: number } | { after: number };

export interface GrownModel {
  cfg: NastConfig;
  acoustic: GrownLayer[];
  textual: GrownLayer[];
}

type Stack = "acoustic" | "textual";

function stackOrder(layers: number, after: number[], first: number, where: string): GrownLayer[] {
  for (const k of after) {
    if (!Number.isInteger(k) || k < first || k > layers) throw new ConfigError(`${where}: ${k} is not a layer to insert after (${first}-${layers})`);
  }
  const order: GrownLayer[] = after.filter((k) => k === 0).map((k) => ({ after: k }));
  for (let k = 1; k <= layers; k++) {
    order.push({ source: k - 1 });
    for (const a of after) if (a === k) order.push({ after: k });
  }
  return order;
}

/** The grown layer numbers (1-based) of trained layers `layers` (1-based). */
function remap(order: GrownLayer[], layers: readonly number[]): number[] {
  return layers.map((l) => order.findIndex((g) => "source" in g && g.source === l - 1) + 1);
}

/** The LiSA layers of a grown stack: the trained ones where they went, and every new layer followed by one (or, at the end, following one). */
function grownLisa(from: NastConfig, stack: Stack, order: GrownLayer[]): number[] {
  const layers = from[stack].layers;
  const out: number[] = [];
  order.forEach((g, i) => {
    const next = "source" in g ? g.source : g.after < layers ? g.after : g.after - 1;
    if (isLisaLayer(from, stack, next) && i > 0) out.push(i + 1);
  });
  return out;
}

function widen(from: number, to: number | undefined, where: string): number {
  if (to === undefined) return from;
  if (!Number.isInteger(to) || to < from) throw new ConfigError(`${where}: ${to} must be an integer of at least the trained width ${from} (an FFN can only grow)`);
  return to;
}

/** The grown model's config and where each of its layers comes from; a plan that would not start as the trained model is refused, saying why. */
export function growConfig(from: NastConfig, plan: GrowPlan): GrownModel {
  for (const k of plan.acousticAfter) {
    if (from.acoustic.interCtcLayers.includes(k)) {
      throw new ConfigError(`--acoustic-after ${k}: acoustic layer ${k} feeds InterCTC and PAE, so a layer after it would not start as the identity; insert after another layer`);
    }
  }
  const acoustic = stackOrder(from.acoustic.layers, plan.acousticAfter, 1, "--acoustic-after");
  const textual = stackOrder(from.textual.layers, plan.textualAfter, 0, "--textual-after");
  const cfg: NastConfig = structuredClone(from);
  cfg.acoustic.layers = acoustic.length;
  cfg.acoustic.ffnDim = widen(from.acoustic.ffnDim, plan.acousticFfnDim, "--acoustic-ffn");
  cfg.acoustic.interCtcLayers = remap(acoustic, from.acoustic.interCtcLayers);
  cfg.textual.layers = textual.length;
  cfg.textual.ffnDim = widen(from.textual.ffnDim, plan.textualFfnDim, "--textual-ffn");
  cfg.textual.interCtcLayers = remap(textual, from.textual.interCtcLayers);
  if (from.textual.cla.enabled) cfg.textual.cla.memoryLayer = remap(textual, [from.textual.cla.memoryLayer])[0]!;
  cfg.lisa.acoustic = grownLisa(from, "acoustic", acoustic);
  cfg.lisa.textual = grownLisa(from, "textual", textual);
  const added = `${acoustic.length - from.acoustic.layers} acoustic and ${textual.length - from.textual.layers} textual layers, FFN ${cfg.acoustic.ffnDim}/${cfg.textual.ffnDim}`;
  cfg.description = `${from.description} (grown by nast grow: ${added})`;
  return { cfg: validateConfig(cfg, "the grown config"), acoustic, textual };
}

/** Output projections of a new layer: zero, so that its residual branches add nothing. */
const ZEROED_IN_NEW = /\.(attn\.out|cross\.out|ffn_macaron\.fc2|ffn\.fc2|conv\.pw2)\.(weight|bias)$/;

function f32(t: HostTensor, name: string): Float32Array {
  if (t.dtype !== "F32") throw new Error(`${name}: grow reads float32 weights, not ${t.dtype}`);
  return new Float32Array(t.bytes.slice().buffer);
}

function host(values: Float32Array, shape: number[]): HostTensor {
  return { dtype: "F32", shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** A trained FFN weight in a wider one: fc1 rows (and bias) fill the first rows, fc2 columns the first columns; the rest is `fresh` (fc1) or zero (fc2). */
function widened(name: string, trained: HostTensor, fresh: HostTensor): HostTensor {
  const src = f32(trained, name);
  if (trained.shape.join() === fresh.shape.join()) return host(src, fresh.shape);
  const out = name.includes(".fc2.") ? new Float32Array(numel(fresh.shape)) : f32(fresh, name);
  if (name.endsWith(".fc2.weight")) {
    const [rows, cols] = fresh.shape as [number, number];
    const old = trained.shape[1]!;
    for (let r = 0; r < rows; r++) out.set(src.subarray(r * old, (r + 1) * old), r * cols);
  } else {
    out.set(src); // fc1 weight (rows are contiguous) or fc1 bias
  }
  return host(out, fresh.shape);
}

/**
 * The grown model's weights: `trained` (the trained model's state dict, float32) moved to the grown layer numbers and
 * widened, with `fresh` (a new model of the grown config, e.g. initParams) for what is new, made the identity
 * as the top of this file says. Returns every tensor of the grown config's specs.
 */
export function growWeights(trained: ReadonlyMap<string, HostTensor>, grown: GrownModel, fresh: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const get = (m: ReadonlyMap<string, HostTensor>, name: string, what: string): HostTensor => {
    const t = m.get(name);
    if (t === undefined) throw new Error(`${what} lacks '${name}'`);
    return t;
  };
  // Conformer layers followed by new ones hand on LN(z) with gain 1, bias 0; the last new one takes their gain and bias.
  const normFrom = new Map<number, number>(); // grown acoustic index → trained layer whose final norm it takes
  const plainNorm = new Set<number>();
  grown.acoustic.forEach((g, i) => {
    const nextIsNew = i + 1 < grown.acoustic.length && "after" in grown.acoustic[i + 1]!;
    if (nextIsNew) plainNorm.add(i);
    if ("after" in g && !nextIsNew) normFrom.set(i, g.after - 1);
  });
  const out = new Map<string, HostTensor>();
  for (const spec of paramSpecs(grown.cfg)) {
    const name = spec.name;
    const f = get(fresh, name, "the fresh weights");
    const m = /^(acoustic|textual)\.layers\.(\d+)\.(.+)$/.exec(name);
    let t: HostTensor;
    if (m === null) {
      t = widened(name, get(trained, name, "the trained model"), f);
    } else {
      const stack = m[1] as Stack;
      const i = Number(m[2]);
      const rest = m[3]!;
      const g = grown[stack][i]!;
      if ("source" in g) {
        t = widened(name, get(trained, `${stack}.layers.${g.source}.${rest}`, "the trained model"), f);
      } else if (ZEROED_IN_NEW.test(name)) {
        t = host(new Float32Array(numel(spec.shape)), spec.shape);
      } else {
        t = f;
      }
      if (stack === "acoustic" && rest.startsWith("final_norm.")) {
        if (plainNorm.has(i)) t = host(new Float32Array(numel(spec.shape)).fill(rest === "final_norm.weight" ? 1 : 0), spec.shape);
        const source = normFrom.get(i);
        if (source !== undefined) t = widened(name, get(trained, `acoustic.layers.${source}.${rest}`, "the trained model"), f);
      }
    }
    out.set(name, t);
  }
  return out;
}
