// The model configuration: every architectural choice of CTC-NAST (+LiSA) as one JSON object.
// Layer numbers in the config are 1-based, as in the paper and the reference recipe ("inter-ctc-layers: 6,9");
// state-dict names use 0-based indices ("acoustic.layers.5" is layer 6), as torch does.
// Presets live in models/configs/*.json; a user config may start from one with "extends".
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseConfigMetadata } from "../formats/nast-metadata.ts";
import repro from "../../models/configs/repro.json" with { type: "json" };
import base from "../../models/configs/base.json" with { type: "json" };
import small from "../../models/configs/small.json" with { type: "json" };
import tiny from "../../models/configs/tiny.json" with { type: "json" };
import arSmall from "../../models/configs/ar-small.json" with { type: "json" };
import arTiny from "../../models/configs/ar-tiny.json" with { type: "json" };

export type ShareSpace = "logits" | "probs";
export type Activation = "relu" | "swish" | "gelu";

export interface LisaConfig {
  /** Acoustic (Conformer) layers whose self-attention is a LiSA layer (1-based; layer 1 cannot be one). */
  acoustic: number[];
  /** Textual layers whose self-attention is a LiSA layer (1-based; layer 1 cannot be one). */
  textual: number[];
  /** Rank r of the low-rank Q'K' difference, a multiple of `heads` (docs/model.md §7.5: r ≈ d/6). */
  rank: number;
  /** Hidden width H_f of the head-alignment FFN over the head axis (docs/model.md §7.5: 2H). */
  ffnDim: number;
  /** Activation φ of the head-alignment FFN. */
  activation: "gelu" | "swish";
  /** Share pre-softmax logits (default, docs/model.md §7.2) or post-softmax weights renormalised (the ablation of docs/model.md §9). */
  shareSpace: ShareSpace;
}

/** What CTC-NAST and its autoregressive counterpart share: the front end and the acoustic encoder with its source CTC. */
export interface EncoderConfig {
  /** Free text shown in model cards and logs. */
  description: string;
  /** Output vocabulary size V (SentencePiece pieces; id 0 is the CTC blank). Set from spm.model at training time. */
  vocabSize: number;
  /** Input feature dimension (80 Kaldi fbank bins). */
  inputDim: number;
  dModel: number;
  heads: number;
  /** Residual, embedding and CTC dropout (reference: one value for all, 0.15). */
  dropout: number;
  /** Dropout on attention weights. */
  attentionDropout: number;
  /** Dropout between the two FFN linears. */
  activationDropout: number;
  subsampler: {
    /** Number of Conv1d(k, stride 2) + GLU layers: time is divided by 2^layers. */
    layers: number;
    /** Output channels of every conv but the last (before GLU halves them); the last outputs 2·dModel. */
    channels: number;
    kernel: number;
  };
  acoustic: {
    layers: number;
    ffnDim: number;
    convKernel: number;
    /** Activation after the conv module's batch norm; the reference runs ReLU (docs/model.md §3.3). */
    convActivation: "relu" | "swish";
    /** Layers after which source InterCTC runs (shared CTC head, own LayerNorm each). */
    interCtcLayers: number[];
    /** Prediction-aware encoding at the InterCTC layers: x ← LN(x) + softmax(z)·E_pae_src. */
    pae: boolean;
  };
  /** LiSA layers (in the autoregressive model only acoustic ones: `textual` is empty). */
  lisa: LisaConfig;
  /**
   * Training settings, read and validated by src/train/settings.ts (kept here so one JSON describes a run; a
   * checkpoint's or package's config records there how its model was trained, e.g. the curriculum).
   */
  train?: Record<string, unknown>;
}

/** CTC-NAST: the acoustic encoder, the adapter and the textual encoder with the target CTC. */
export interface NastConfig extends EncoderConfig {
  /**
   * How a model package decodes by default (flags override it): the blank penalty of src/infer/ctc.ts. It says
   * nothing of the weights, so a package's config.json may set it after export (src/formats/model-package.ts
   * leaves it out of the comparison with model.onnx's embedded config).
   */
  decoding?: { blankPenalty: number };
  /** The "inter_league" adapter between the encoders: h + softmax(z_src)·E_adapter (docs/model.md §4.1). */
  adapter: boolean;
  textual: {
    layers: number;
    ffnDim: number;
    interCtcLayers: number[];
    pae: boolean;
    cla: {
      /** Cross-layer attention: layers above `memoryLayer` attend to M = LN(output of memoryLayer). */
      enabled: boolean;
      memoryLayer: number;
      /** Probability of skipping a CLA layer's self-attention branch while training. */
      dropNet: number;
    };
  };
}

/**
 * The autoregressive counterpart (docs/model.md §10): the same acoustic encoder with its source CTC as an
 * auxiliary loss, and a pre-LN Transformer decoder with cross-attention (the AR model of the reference's
 * reproduction_ctc_aug recipe, without its textual encoder, so that the comparison is of decoders only).
 */
export interface ArConfig extends EncoderConfig {
  arch: "ar";
  decoder: {
    layers: number;
    ffnDim: number;
    /** ε of the label-smoothed cross-entropy (fairseq label_smoothed_cross_entropy; the reference: 0.1). */
    labelSmoothing: number;
    /** λ of the auxiliary source CTC: loss = CE_ε + λ·(C_src + mean_ℓ C_src^ℓ). */
    ctcWeight: number;
  };
}

/** Any model nast trains: CTC-NAST, or (with "arch": "ar") its autoregressive counterpart. */
export type ModelConfig = NastConfig | ArConfig;

export function isArConfig(cfg: ModelConfig): cfg is ArConfig {
  return (cfg as Partial<ArConfig>).arch === "ar";
}

/** The config as a CTC-NAST one, or an error naming `where` and what to do with an autoregressive model. */
export function nastOnly(cfg: ModelConfig, where: string, what: string): NastConfig {
  if (isArConfig(cfg)) throw new ConfigError(`${where}: is an autoregressive model ("arch": "ar"); ${what} needs a CTC-NAST model`);
  return cfg;
}

export const PRESETS = { repro, base, small, tiny } as const satisfies Record<string, unknown>;
export type PresetName = keyof typeof PRESETS;
/** The autoregressive counterparts of the presets: the same front end and acoustic encoder, a decoder instead of the textual encoder. */
export const AR_PRESETS = { "ar-small": arSmall, "ar-tiny": arTiny } as const satisfies Record<string, unknown>;
const ALL_PRESETS: Record<string, unknown> = { ...PRESETS, ...AR_PRESETS };

/** A config error: names the file (if any) and the key, and says what is allowed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Loads a preset by name ("small") or a JSON file; "extends": "<preset or path>" merges over a base. A preset
 * name wins over a file of that name; a relative path in "extends" is relative to the folder of the config
 * file that holds it (not to the current directory).
 */
export function loadModelConfig(source: string): ModelConfig {
  return validateModelConfig(readRaw(source, new Set()), source);
}

/** loadModelConfig for a CTC-NAST config: an autoregressive one is a ConfigError naming `source`. */
export function loadConfig(source: string): NastConfig {
  return nastOnly(loadModelConfig(source), source, "this command");
}

function readRaw(source: string, seen: Set<string>): Record<string, unknown> {
  const key = Object.hasOwn(ALL_PRESETS, source) ? source : resolve(source);
  if (seen.has(key)) throw new ConfigError(`${source}: "extends" forms a cycle`);
  seen.add(key);
  let raw: unknown;
  if (Object.hasOwn(ALL_PRESETS, source)) {
    raw = structuredClone(ALL_PRESETS[source]);
  } else {
    let text: string;
    try {
      text = readFileSync(source, "utf8");
    } catch (err) {
      const presets = Object.keys(ALL_PRESETS).join(", ");
      throw new ConfigError(`${source}: cannot read the config (${(err as Error).message}); give a JSON file or one of the presets ${presets}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(raw)) throw new ConfigError(`${source}: the config must be a JSON object`);
  const { extends: parent, ...rest } = raw;
  if (parent === undefined) return rest;
  if (typeof parent !== "string") throw new ConfigError(`${source}: "extends" must be a preset name or a file path`);
  // A preset extending a preset has no folder; a file's relative parent is taken from the file's own folder.
  const from = Object.hasOwn(ALL_PRESETS, parent) || Object.hasOwn(ALL_PRESETS, source) ? parent : resolve(dirname(source), parent);
  return deepMerge(readRaw(from, seen), rest);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The config with the vocabulary size of the SentencePiece model a run trains with. */
export function withVocabSize<C extends ModelConfig>(cfg: C, vocabSize: number): C {
  if (!Number.isInteger(vocabSize) || vocabSize < 2) throw new ConfigError(`vocabSize: ${vocabSize} is not a vocabulary size (need an integer >= 2)`);
  return { ...cfg, vocabSize };
}

/** r = d/6 rounded to a multiple of H, at least H (docs/model.md §7.5). */
export function defaultLisaRank(dModel: number, heads: number): number {
  return Math.max(heads, Math.round(dModel / 6 / heads) * heads);
}

/** Parses a layer set: [5, 6], "5-12", "5,6,8-9", "" (none). */
export function parseLayerSet(value: unknown, where: string): number[] {
  if (Array.isArray(value)) {
    return normaliseSet(
      value.map((v) => {
        if (!Number.isInteger(v)) throw new ConfigError(`${where}: ${JSON.stringify(v)} is not a layer number`);
        return v as number;
      }),
    );
  }
  if (typeof value !== "string") throw new ConfigError(`${where}: expected a layer set like "5-12", "6,9" or [6, 9]`);
  const out: number[] = [];
  for (const part of value.split(",").map((s) => s.trim())) {
    if (part === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(`${where}: cannot read "${part}" (expected a layer set like "5-12", "6,9")`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new ConfigError(`${where}: range "${part}" runs backwards`);
    for (let l = lo; l <= hi; l++) out.push(l);
  }
  return normaliseSet(out);
}

function normaliseSet(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** Reads one object of the raw config, recording the key path for error messages. */
class Reader {
  private readonly used = new Set<string>();
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly path: string,
    private readonly file: string,
  ) {}

  private where(key: string): string {
    return `${this.file}: ${this.path ? `${this.path}.` : ""}${key}`;
  }

  fail(key: string, msg: string): never {
    throw new ConfigError(`${this.where(key)}: ${msg}`);
  }

  private get(key: string): unknown {
    this.used.add(key);
    if (!Object.hasOwn(this.obj, key)) this.fail(key, "missing");
    return this.obj[key];
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key);
  }

  num(key: string, opts: { int?: boolean; min?: number; max?: number; below?: number } = {}): number {
    const v = this.get(key);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, `expected a number, got ${JSON.stringify(v)}`);
    if (opts.int && !Number.isInteger(v)) this.fail(key, `expected an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(key, `${v} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(key, `${v} is above the maximum ${opts.max}`);
    if (opts.below !== undefined && v >= opts.below) this.fail(key, `${v} must be below ${opts.below}`);
    return v;
  }

  bool(key: string): boolean {
    const v = this.get(key);
    if (typeof v !== "boolean") this.fail(key, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== "string") this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<S extends string>(key: string, allowed: readonly S[]): S {
    const v = this.get(key);
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `expected one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(v)}`);
    }
    return v as S;
  }

  layers(key: string, count: number): number[] {
    const set = parseLayerSet(this.get(key), this.where(key));
    for (const l of set) if (l < 1 || l > count) this.fail(key, `layer ${l} is outside 1..${count}`);
    return set;
  }

  sub(key: string): Reader {
    const v = this.get(key);
    if (!isObject(v)) this.fail(key, `expected an object, got ${JSON.stringify(v)}`);
    return new Reader(v, this.path ? `${this.path}.${key}` : key, this.file);
  }

  raw(key: string): unknown {
    return this.get(key);
  }

  /** Rejects keys nobody read: a typo must not silently fall back to something else. */
  done(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.used.has(key)) this.fail(key, `unknown key (allowed: ${[...this.used].join(", ")})`);
    }
  }
}

/**
 * The config a checkpoint or exported model carries in its "nast.config" metadata (written by nast train,
 * nast average and nast export); null when the file has none.
 */
export function embeddedModelConfig(metadata: Record<string, string>, path: string): ModelConfig | null {
  const parsed = parseConfigMetadata(metadata, path);
  return parsed === undefined ? null : validateModelConfig(parsed, `${path} (nast.config)`);
}

/** embeddedModelConfig of a CTC-NAST model: an autoregressive one is a ConfigError naming `path`. */
export function embeddedConfig(metadata: Record<string, string>, path: string): NastConfig | null {
  const cfg = embeddedModelConfig(metadata, path);
  return cfg === null ? null : nastOnly(cfg, path, "this command");
}

/**
 * The "train" object of a config that carries the curriculum as a model config object (the presets, and the
 * configs, checkpoints and packages written before the curriculum was a training setting, such as
 * models/default): its values are the defaults of the curriculum's training settings,
 * and `enabled: false` keeps the curriculum off whatever train.curriculum says, as it did then. The values
 * are checked with the other settings (src/train/settings.ts).
 */
function withLegacyCurriculum(cu: Reader, train: Record<string, unknown>): Record<string, unknown> {
  const legacy = {
    curriculumRatio: cu.raw("ratio"),
    curriculumOnlyMistakes: cu.raw("onlyMistakes"),
    curriculumSmoothing: cu.raw("smoothing"),
    curriculumDecay: cu.raw("decay"),
  };
  const enabled = cu.bool("enabled");
  cu.done();
  return { ...legacy, ...train, curriculum: enabled ? (train.curriculum ?? true) : false };
}

/** Validates a raw config object (CTC-NAST, or autoregressive with "arch": "ar"); every error names the file and key. */
export function validateModelConfig(raw: unknown, file = "config"): ModelConfig {
  if (!isObject(raw)) throw new ConfigError(`${file}: the config must be a JSON object`);
  const r: Reader = new Reader(raw, "", file);
  if (r.has("arch") && r.oneOf("arch", ["nast", "ar"] as const) === "ar") return validateAr(r);
  const encoder = readEncoder(r);
  const adapter = r.bool("adapter");

  const t = r.sub("textual");
  const tLayers = t.num("layers", { int: true, min: 1 });
  const tf = t.num("ffnDim", { int: true, min: 1 });
  const tInter = t.layers("interCtcLayers", tLayers);
  const tPae = t.bool("pae");
  const c = t.sub("cla");
  const cla = {
    enabled: c.bool("enabled"),
    memoryLayer: c.num("memoryLayer", { int: true, min: 1 }),
    dropNet: c.num("dropNet", { min: 0, below: 1 }),
  };
  if (cla.enabled && cla.memoryLayer >= tLayers) {
    c.fail("memoryLayer", `${cla.memoryLayer} leaves no layer above it for cross-attention (textual.layers = ${tLayers})`);
  }
  c.done();
  t.done();
  const textual = { layers: tLayers, ffnDim: tf, interCtcLayers: tInter, pae: tPae, cla };

  const lisa = readLisa(r.sub("lisa"), encoder, tLayers);
  let train = readTrain(r);
  if (r.has("curriculum")) train = withLegacyCurriculum(r.sub("curriculum"), train ?? {});
  let decoding: NastConfig["decoding"];
  if (r.has("decoding")) {
    const d = r.sub("decoding");
    decoding = { blankPenalty: d.num("blankPenalty") };
    d.done();
  }
  r.done();

  const { description, vocabSize, inputDim, dModel, heads, dropout, attentionDropout, activationDropout, subsampler, acoustic } = encoder;
  return {
    description,
    vocabSize,
    inputDim,
    dModel,
    heads,
    dropout,
    attentionDropout,
    activationDropout,
    subsampler,
    acoustic,
    adapter,
    textual,
    lisa,
    ...(train ? { train } : {}),
    ...(decoding ? { decoding } : {}),
  };
}

/** validateModelConfig for a CTC-NAST config: an autoregressive one is a ConfigError naming `file`. */
export function validateConfig(raw: unknown, file = "config"): NastConfig {
  return nastOnly(validateModelConfig(raw, file), file, "this command");
}

type EncoderFields = Omit<EncoderConfig, "lisa" | "train">;

/** The front end and acoustic encoder, read in the order the keys are documented (and listed in errors). */
function readEncoder(r: Reader): EncoderFields {
  const description = r.has("description") ? r.str("description") : "";
  const vocabSize = r.num("vocabSize", { int: true, min: 2 });
  const inputDim = r.num("inputDim", { int: true, min: 1 });
  const dModel = r.num("dModel", { int: true, min: 2 });
  const heads = r.num("heads", { int: true, min: 1 });
  if (dModel % heads !== 0) r.fail("heads", `dModel ${dModel} is not divisible by ${heads} heads`);
  const dropout = r.num("dropout", { min: 0, below: 1 });
  const attentionDropout = r.num("attentionDropout", { min: 0, below: 1 });
  const activationDropout = r.num("activationDropout", { min: 0, below: 1 });

  const s = r.sub("subsampler");
  const subsampler = {
    layers: s.num("layers", { int: true, min: 1, max: 4 }),
    channels: s.num("channels", { int: true, min: 2 }),
    kernel: s.num("kernel", { int: true, min: 1 }),
  };
  if (subsampler.channels % 2 !== 0) s.fail("channels", `${subsampler.channels} must be even (GLU halves it)`);
  if (subsampler.kernel % 2 !== 1) s.fail("kernel", `${subsampler.kernel} must be odd (symmetric padding)`);
  s.done();

  const a = r.sub("acoustic");
  const aLayers = a.num("layers", { int: true, min: 1 });
  const acoustic = {
    layers: aLayers,
    ffnDim: a.num("ffnDim", { int: true, min: 1 }),
    convKernel: a.num("convKernel", { int: true, min: 1 }),
    convActivation: a.oneOf("convActivation", ["relu", "swish"] as const),
    interCtcLayers: a.layers("interCtcLayers", aLayers),
    pae: a.bool("pae"),
  };
  if (acoustic.convKernel % 2 !== 1) a.fail("convKernel", `${acoustic.convKernel} must be odd (same-length depthwise conv)`);
  a.done();
  return { description, vocabSize, inputDim, dModel, heads, dropout, attentionDropout, activationDropout, subsampler, acoustic };
}

/** The "lisa" object; `textualLayers` null for a model without a textual encoder (its "textual" must be empty if given). */
function readLisa(l: Reader, encoder: EncoderFields, textualLayers: number | null): LisaConfig {
  const { dModel, heads } = encoder;
  const lisaAcoustic = l.layers("acoustic", encoder.acoustic.layers);
  let lisaTextual: number[] = [];
  if (textualLayers !== null) lisaTextual = l.layers("textual", textualLayers);
  else if (l.has("textual") && parseLayerSet(l.raw("textual"), "lisa.textual").length > 0) l.fail("textual", "an autoregressive model has no textual encoder: leave it out");
  if (lisaAcoustic.includes(1)) l.fail("acoustic", "layer 1 has no previous layer to share attention with");
  if (lisaTextual.includes(1)) l.fail("textual", "layer 1 has no previous layer to share attention with");
  const rankRaw = l.raw("rank");
  let rank: number;
  if (rankRaw === "auto") rank = defaultLisaRank(dModel, heads);
  else {
    rank = l.num("rank", { int: true, min: 1 });
    if (rank % heads !== 0) l.fail("rank", `${rank} is not a multiple of heads (${heads}); use "auto" for d/6 rounded`);
  }
  const ffnRaw = l.raw("ffnDim");
  const lisa: LisaConfig = {
    acoustic: lisaAcoustic,
    textual: lisaTextual,
    rank,
    ffnDim: ffnRaw === "auto" ? 2 * heads : l.num("ffnDim", { int: true, min: 1 }),
    activation: l.oneOf("activation", ["gelu", "swish"] as const),
    shareSpace: l.oneOf("shareSpace", ["logits", "probs"] as const),
  };
  l.done();
  return lisa;
}

function readTrain(r: Reader): Record<string, unknown> | undefined {
  if (!r.has("train")) return undefined;
  const v = r.raw("train");
  if (!isObject(v)) r.fail("train", "expected an object of training settings");
  return v;
}

/** The autoregressive config: the encoder keys, "lisa" (acoustic layers only), "decoder" and "train". */
function validateAr(r: Reader): ArConfig {
  const encoder = readEncoder(r);
  const lisa = readLisa(r.sub("lisa"), encoder, null);
  const d = r.sub("decoder");
  const decoder = {
    layers: d.num("layers", { int: true, min: 1 }),
    ffnDim: d.num("ffnDim", { int: true, min: 1 }),
    labelSmoothing: d.num("labelSmoothing", { min: 0, below: 1 }),
    ctcWeight: d.num("ctcWeight", { min: 0 }),
  };
  d.done();
  const train = readTrain(r);
  r.done();
  return { arch: "ar", ...encoder, lisa, decoder, ...(train ? { train } : {}) };
}

/** The subsampled length T' of an input of `frames` frames (docs/model.md §2.3): f applied `layers` times. */
export function subsampledLength(cfg: Pick<EncoderConfig, "subsampler">, frames: number): number {
  const { layers, kernel } = cfg.subsampler;
  const pad = (kernel - 1) / 2;
  let n = frames;
  for (let i = 0; i < layers; i++) n = Math.floor((n + 2 * pad - kernel) / 2) + 1;
  return n;
}
