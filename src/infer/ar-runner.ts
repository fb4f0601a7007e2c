// An exported autoregressive model's two onnxruntime sessions behind the SearchRunner interface
// (./batch-runner.ts): the encoder graph once per padded batch, then the decoder-step graph once per search step
// (./ar-search.ts), its key/value cache handed from one step's outputs to the next step's inputs. Written against
// onnxruntime-common, as ./ort-runner.ts is, so that the browser page could run it on onnxruntime-web.
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { INPUTS } from "./model-io.ts";
import { arDecoderInputs, arDecoderOutputs, arEncoderOutputs } from "./ar-model-io.ts";
import { searchAsync, type AsyncDecoderStepper, type StepRequest } from "./ar-search.ts";
import type { Features, SearchOutput, SearchRunner } from "./batch-runner.ts";
import type { OrtTensors } from "./ort-runner.ts";

export interface ArShape {
  inputDim: number;
  vocabSize: number;
  layers: number;
  heads: number;
  /** d / heads. */
  headDim: number;
}

/** Throws (naming `where`) unless the sessions have the inputs and outputs of an exported autoregressive model. */
export function checkArSessions(encoder: InferenceSession, decoder: InferenceSession, layers: number, where: string): void {
  const check = (s: InferenceSession, file: string, inputs: string[], outputs: string[]) => {
    for (const name of inputs) if (!s.inputNames.includes(name)) throw new Error(`${where}/${file}: has no input '${name}' (not an autoregressive nast model package?)`);
    if (s.outputNames.join(",") !== outputs.join(",")) {
      throw new Error(`${where}/${file}: outputs [${s.outputNames.join(", ")}] instead of [${outputs.join(", ")}]; re-export it with this version of \`nast export\``);
    }
  };
  check(encoder, "model.onnx", Object.values(INPUTS), arEncoderOutputs(layers));
  check(decoder, "decoder.onnx", arDecoderInputs(layers), arDecoderOutputs(layers));
}

export class OrtArRunner implements SearchRunner {
  constructor(
    private readonly ort: OrtTensors,
    private readonly encoder: InferenceSession,
    private readonly decoder: InferenceSession,
    private readonly shape: ArShape,
  ) {}

  /** Runs the encoder on one padded batch: the source CTC argmax, the lengths, and a stepper for the decoder. */
  async encode(items: readonly Features[]): Promise<{ outLengths: number[]; steps: number; srcIds: BigInt64Array; stepper: AsyncDecoderStepper }> {
    const B = items.length;
    const T = Math.max(...items.map((x) => x.frames));
    const D = this.shape.inputDim;
    const feats = new Float32Array(B * T * D);
    const lengths = new BigInt64Array(B);
    items.forEach((x, b) => {
      feats.set(x.feats.subarray(0, x.frames * D), b * T * D);
      lengths[b] = BigInt(x.frames);
    });
    const names = arEncoderOutputs(this.shape.layers);
    const out = await this.encoder.run({ [INPUTS.feats]: new this.ort.Tensor("float32", feats, [B, T, D]), [INPUTS.lengths]: new this.ort.Tensor("int64", lengths, [B]) }, names);
    const srcIds = out.src_ids!;
    const outLengths = Array.from(out.out_lengths!.data as BigInt64Array, Number);
    const cross = names.slice(2).map((n) => out[n]!);
    return { outLengths, steps: srcIds.dims[1]!, srcIds: srcIds.data as BigInt64Array, stepper: new OrtArStepper(this.ort, this.decoder, this.shape, cross, outLengths) };
  }

  async search(items: readonly Features[], beam: number): Promise<SearchOutput> {
    const { stepper, ...enc } = await this.encode(items);
    return { ...enc, hypotheses: await searchAsync(stepper, enc.outLengths, beam) };
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}

/** The decoder steps of one batch: the cache of the last step, and the cross keys/values laid out for its rows. */
class OrtArStepper implements AsyncDecoderStepper {
  readonly vocabSize: number;
  private cache: Tensor[] | null = null;
  private rows: { source: Int32Array; cross: Tensor[]; lengths: Tensor } | null = null;

  constructor(
    private readonly ort: OrtTensors,
    private readonly decoder: InferenceSession,
    private readonly shape: ArShape,
    /** cross_k_0, cross_v_0, … (B, H, T', dh). */
    private readonly cross: Tensor[],
    private readonly outLengths: number[],
  ) {
    this.vocabSize = shape.vocabSize;
  }

  async step({ tokens, parent, source, position }: StepRequest): Promise<Float32Array> {
    const { Tensor: T } = this.ort;
    const N = tokens.length;
    const { layers, heads, headDim } = this.shape;
    if (this.rows === null || !sameRows(this.rows.source, source)) this.rows = this.layOut(source);
    // The first step's cache is empty: (N, H, 0, dh).
    const cache = this.cache ?? Array.from({ length: 2 * layers }, () => new T("float32", new Float32Array(0), [N, heads, 0, headDim]));
    const feeds: Record<string, Tensor> = {
      tokens: new T("int64", BigInt64Array.from(tokens, (v) => BigInt(v)), [N, 1]),
      position: new T("int64", new BigInt64Array([BigInt(position)]), [1]),
      parent: new T("int64", BigInt64Array.from(parent, (v) => BigInt(v)), [N]),
      memory_lengths: this.rows.lengths,
    };
    const inputs = arDecoderInputs(layers);
    inputs.slice(4, 4 + 2 * layers).forEach((name, i) => (feeds[name] = cache[i]!));
    inputs.slice(4 + 2 * layers).forEach((name, i) => (feeds[name] = this.rows!.cross[i]!));
    const outputs = arDecoderOutputs(layers);
    const out = await this.decoder.run(feeds, outputs);
    this.cache = outputs.slice(1).map((n) => out[n]!);
    return out.log_probs!.data as Float32Array;
  }

  /** The cross keys/values and memory lengths of each row's utterance, copied out of the batch's. */
  private layOut(source: Int32Array): { source: Int32Array; cross: Tensor[]; lengths: Tensor } {
    const { Tensor: T } = this.ort;
    const cross = this.cross.map((t) => {
      const data = t.data as Float32Array;
      const block = data.length / t.dims[0]!;
      const rows = new Float32Array(source.length * block);
      source.forEach((b, n) => rows.set(data.subarray(b * block, (b + 1) * block), n * block));
      return new T("float32", rows, [source.length, ...t.dims.slice(1)]);
    });
    const lengths = new T("int64", BigInt64Array.from(source, (b) => BigInt(this.outLengths[b]!)), [source.length]);
    return { source: source.slice(), cross, lengths };
  }
}

function sameRows(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
