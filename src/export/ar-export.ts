// The ONNX graphs of the autoregressive counterpart (docs/model.md §10.4), built by OnnxOps from the model's own
// functions (src/model/ar.ts) as for CTC-NAST: model.onnx = arEncode (the source CTC argmax for timestamps and
// the transcript, the valid lengths, and every decoder layer's cross-attention keys and values), decoder.onnx =
// arStep (the next-token log-probabilities and the grown self-attention cache). Batch, time, rows and cache length
// stay symbolic.
import { CONFIG_KEY } from "../formats/nast-metadata.ts";
import type { ArConfig } from "../model/config.ts";
import { arEncode, arStep } from "../model/ar.ts";
import { modelProto } from "../formats/onnx-proto.ts";
import { arDecoderInputs, arDecoderOutputs, arEncoderOutputs } from "../infer/ar-model-io.ts";
import { INPUTS } from "../infer/model-io.ts";
import type { StoredTensor } from "./checkpoint.ts";
import { PACKAGE_FORMAT, int8Products, weightsLabel, type BuildOptions, type BuiltModel } from "./exporter.ts";
import { GraphBuilder } from "./graph.ts";
import { OnnxOps } from "./onnx-ops.ts";

function serialize(g: GraphBuilder, ops: OnnxOps, state: ReadonlyMap<string, StoredTensor>, name: string, doc: string, metadata: Record<string, string>): BuiltModel {
  let parameters = 0;
  for (const p of ops.used) parameters += state.get(p)!.shape.reduce((a, b) => a * b, 1);
  const def = g.model({ graphName: name, metadata: { ...metadata, "nast.parameters": String(parameters) }, producerVersion: "0.1.0", docString: doc });
  const chunks = modelProto(def);
  return { chunks, bytes: chunks.reduce((a, c) => a + c.length, 0), nodes: def.nodes.length, parameters };
}

/** The encoder (model.onnx) and decoder-step (decoder.onnx) graphs of `cfg` with the weights of `state`. */
export function buildArOnnxModels(cfg: ArConfig, state: ReadonlyMap<string, StoredTensor>, opts: BuildOptions = {}): { encoder: BuiltModel; decoder: BuiltModel } {
  const L = cfg.decoder.layers;
  const H = cfg.heads;
  const dh = cfg.dModel / H;
  const metadata: Record<string, string> = {
    "nast.format": PACKAGE_FORMAT,
    [CONFIG_KEY]: JSON.stringify(cfg),
    "nast.vocab_size": String(cfg.vocabSize),
    "nast.frame_seconds": String(0.01 * 2 ** cfg.subsampler.layers),
    "nast.weights": weightsLabel(opts),
    ...(opts.int8 ? { "nast.int8": [...int8Products(opts)].join(",") } : {}),
    ...opts.metadata,
  };
  const weights = { fp16Weights: opts.fp16, int8: int8Products(opts) };

  const ge = new GraphBuilder();
  const eo = new OnnxOps(ge, state, weights);
  const enc = arEncode(eo, cfg, ge.input(INPUTS.feats, "float32", ["B", "T", cfg.inputDim]), ge.input(INPUTS.lengths, "int64", ["B"]));
  const encValues = [eo.argmax(enc.srcLogits, 2), enc.outLengths, ...enc.cross.flatMap((kv) => [kv.k, kv.v])];
  const encDims = [["B", "T_out"], ["B"], ...enc.cross.flatMap(() => [["B", H, "T_out", dh], ["B", H, "T_out", dh]])];
  arEncoderOutputs(L).forEach((name, i) => ge.output(encValues[i]!, name, encDims[i]));
  const encoder = serialize(ge, eo, state, "nast_ar_encoder", "autoregressive speech translation: the encoder (nast export)", metadata);

  const gd = new GraphBuilder();
  const dop = new OnnxOps(gd, state, weights);
  const inputs = new Map<string, ReturnType<GraphBuilder["input"]>>();
  for (const name of arDecoderInputs(L)) {
    const [dtype, dims]: ["int64" | "float32", (string | number)[]] =
      name === "tokens" ? ["int64", ["N", 1]]
      : name === "position" ? ["int64", [1]]
      : name === "parent" || name === "memory_lengths" ? ["int64", ["N"]]
      : name.startsWith("cache") ? ["float32", ["N_prev", H, "S", dh]]
      : ["float32", ["N", H, "T_out", dh]];
    inputs.set(name, gd.input(name, dtype, dims));
  }
  const get = (name: string) => inputs.get(name)!;
  const pair = (stem: string, i: number) => ({ k: get(`${stem}_k_${i}`), v: get(`${stem}_v_${i}`) });
  const cross = Array.from({ length: L }, (_, i) => pair("cross", i));
  const memoryMask = dop.unsqueeze(dop.unsqueeze(dop.paddingMask(get("memory_lengths"), cross[0]!.k, 2), 1), 1); // (N,1,1,T')
  const step = arStep(dop, cfg, {
    tokens: get("tokens"),
    position: get("position"),
    parent: get("parent"),
    cache: Array.from({ length: L }, (_, i) => pair("cache", i)),
    cross,
    memoryMask,
  });
  const decValues = [dop.logSoftmax(step.logits, 1), ...step.cache.flatMap((kv) => [kv.k, kv.v])];
  const decDims = [["N", cfg.vocabSize], ...step.cache.flatMap(() => [["N", H, "S_next", dh], ["N", H, "S_next", dh]])];
  arDecoderOutputs(L).forEach((name, i) => gd.output(decValues[i]!, name, decDims[i]));
  const decoder = serialize(gd, dop, state, "nast_ar_decoder_step", "autoregressive speech translation: one decoder step (nast export)", metadata);
  return { encoder, decoder };
}
