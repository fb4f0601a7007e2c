// The autoregressive decoder's steps on libtorch (src/infer/ar-search.ts DecoderStepper): the encoder runs once
// (arEncode), its cross-attention keys and values stay on the device, and each step (arStep) grows a
// self-attention key/value cache per layer. The cross keys and values are regathered for the step's rows only when
// the rows' utterances change (an utterance finished, or a beam's first step widened it).
import type { ArConfig } from "../model/config.ts";
import { arEncode, arStep, type ArEncoded } from "../model/ar.ts";
import type { KeysValues } from "../model/decoder.ts";
import type { DecoderStepper, StepRequest } from "../infer/ar-search.ts";
import { autocast, disposeAll, keep, noGrad, Tensor, tensor, tidy, zeros } from "../torch/index.ts";
import { EagerOps } from "./eager-ops.ts";

/** Everything a step reads, kept out of tidy scopes until dispose(). */
interface Kept {
  cache: KeysValues<Tensor>[] | null;
  /** Cross keys/values and memory mask gathered for `source`. */
  rows: { source: Int32Array; cross: KeysValues<Tensor>[]; memoryMask: Tensor } | null;
}

export class EagerArStepper implements DecoderStepper {
  readonly vocabSize: number;
  private readonly ops: EagerOps;
  private readonly kept: Kept = { cache: null, rows: null };

  /** The encoder output `enc` is owned by the stepper from here on (dispose() frees it). */
  constructor(
    private readonly cfg: ArConfig,
    params: Map<string, Tensor>,
    private readonly enc: ArEncoded<Tensor>,
    private readonly device: string,
    private readonly bf16: boolean,
  ) {
    this.vocabSize = cfg.vocabSize;
    this.ops = new EagerOps(params, false);
  }

  /** Encodes a batch (feats (B, T, 80), lengths (B)) and returns its stepper. */
  static encode(cfg: ArConfig, params: Map<string, Tensor>, feats: Tensor, lengths: Tensor, device: string, bf16: boolean): EagerArStepper {
    const ops = new EagerOps(params, false);
    const enc = noGrad(() => tidy(() => (bf16 ? autocast(() => arEncode(ops, cfg, feats, lengths), "bfloat16") : arEncode(ops, cfg, feats, lengths))));
    keepAll(enc);
    return new EagerArStepper(cfg, params, enc, device, bf16);
  }

  get encoded(): ArEncoded<Tensor> {
    return this.enc;
  }

  step({ tokens, parent, source, position }: StepRequest): Float32Array {
    return noGrad(() => {
      if (this.kept.rows === null || !sameRows(this.kept.rows.source, source)) this.gatherRows(source);
      const rows = this.kept.rows!;
      const { cache, logProbs } = tidy(() => {
        const d = this.device;
        const N = tokens.length;
        const H = this.cfg.heads;
        const dh = this.cfg.dModel / H;
        const empty = () => zeros([N, H, 0, dh], { device: d });
        const past = this.kept.cache ?? Array.from({ length: this.cfg.decoder.layers }, () => ({ k: empty(), v: empty() }));
        const run = () =>
          arStep(this.ops, this.cfg, {
            tokens: tensor(BigInt64Array.from(tokens, (v) => BigInt(v)), { shape: [N, 1], dtype: "int64", device: d }),
            position: tensor(new BigInt64Array([BigInt(position)]), { shape: [1], dtype: "int64", device: d }),
            parent: tensor(BigInt64Array.from(parent, (v) => BigInt(v)), { shape: [N], dtype: "int64", device: d }),
            cache: past,
            cross: rows.cross,
            memoryMask: rows.memoryMask,
          });
        const out = this.bf16 ? autocast(run, "bfloat16") : run();
        return { cache: out.cache, logProbs: out.logits.to("float32").logSoftmax(1).to("cpu") };
      });
      keepAll(cache);
      if (this.kept.cache !== null) disposeAll(this.kept.cache);
      this.kept.cache = cache;
      const data = logProbs.data() as Float32Array;
      logProbs.dispose();
      return data;
    });
  }

  private gatherRows(source: Int32Array): void {
    const rows = tidy(() => {
      const index = tensor(BigInt64Array.from(source, (v) => BigInt(v)), { shape: [source.length], dtype: "int64", device: this.device });
      return {
        cross: this.enc.cross.map((kv) => ({ k: kv.k.indexSelect(0, index), v: kv.v.indexSelect(0, index) })),
        memoryMask: this.enc.memoryMask.indexSelect(0, index),
      };
    });
    keepAll(rows);
    if (this.kept.rows !== null) disposeAll([this.kept.rows.cross, this.kept.rows.memoryMask]);
    this.kept.rows = { source: source.slice(), ...rows };
  }

  dispose(): void {
    disposeAll([this.enc, this.kept.cache, this.kept.rows?.cross, this.kept.rows?.memoryMask]);
    this.kept.cache = null;
    this.kept.rows = null;
  }
}

function sameRows(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** keep() every tensor of a plain structure. */
function keepAll(value: unknown): void {
  if (value instanceof Tensor) keep(value);
  else if (Array.isArray(value)) value.forEach(keepAll);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(keepAll);
}
