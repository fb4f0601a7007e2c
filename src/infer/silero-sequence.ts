// Silero VAD over many windows in one onnxruntime call. The model as Silero ships it takes one 32 ms window
// per call and carries its LSTM state from call to call (./segmenters.ts), so a minute of audio is 1,875
// calls of ~120 µs each on this machine, mostly per-call and per-node overhead: a quarter of `nast translate`'s
// time for a 60 s file. Only the LSTM needs the windows in order; the STFT and the four convolutions before it
// see each window (and its 64 samples of context) alone. This graph keeps those nodes of Silero's own file (but
// for the convolutions, below), batched over N windows, and runs the LSTM over the N windows as one sequence (ONNX LSTM, seq_length
// N) followed by the decoder (ReLU, the 1x1 convolution as a MatMul, sigmoid):
//
//   input (N, 576) → Silero's STFT + encoder, each convolution one product over the N windows → (N, 128, 1)
//     → (N, 1, 128) → LSTM from state → (N, 128) → ReLU → ·w + b → sigmoid → output (N, 1)
//   stateN (2, 1, 128) = the LSTM's last h and c
//
// Silero's five convolutions (the STFT's basis, then the encoder's) each make a handful of frames per window (4,
// 4, 2, 1, 1), and onnxruntime's Conv runs them window by window as N tiny products: 80% of the graph's time on a
// minute of audio. Each is rewritten as one product over all N windows with its weights laid out as a banded
// matrix (bandedConv), which onnxruntime makes from them when it builds the session. Same weights, same
// operations (and the padding's zero products); the LSTM's input products are one (N×128)·(128×512) GEMM instead
// of N vector products, and the convolutions' sums are taken in another order, so the probabilities agree to
// rounding (test/infer/silero-sequence.test.ts: within 1e-4, 1.7e-5 measured, of the shipped model run window
// by window, the same segments). It is built from the 16 kHz file of the npm
// package (weights/silero_vad_16k_op15.onnx: the network of silero_vad.onnx without its sample-rate switch,
// the same probabilities), whose PyTorch-exported layout is checked here node by node; any other file is
// refused with the reason (./vad.ts names the file, and `nast translate` then segments by energy).
// SileroSequence runs it for ./segmenters.ts, which hands it all the windows that have arrived at once.
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { ProtoReader, ProtoWriter } from "../formats/protobuf.ts";
import { nodeProto, tensorProto, valueInfoProto, type NodeDef, type TensorInit } from "../formats/onnx-proto.ts";
import { OnnxFormatError, readInitializer, readingOnnx } from "../formats/onnx-info.ts";
import type { OrtTensors } from "./ort-runner.ts";
import { SILERO_ROW, type SileroNetwork, type SileroRun } from "./segmenters.ts";

/** The last tensor of Silero's encoder (after the fourth convolution's ReLU): (B, 128, 1). */
const ENCODER_OUT = "/model/encoder/3/activation/Relu_output_0";
const HIDDEN = 128;
/** A window's samples after Silero's reflection padding of its 576 (64 of context, 512 new): the STFT's input length. */
const STFT_INPUT = SILERO_ROW + 64;
const DECODER_WEIGHTS = ["model.decoder.rnn.weight_ih", "model.decoder.rnn.weight_hh", "model.decoder.rnn.bias_ih", "model.decoder.rnn.bias_hh", "model.decoder.decoder.2.weight", "model.decoder.decoder.2.bias"] as const;

interface Span {
  field: number;
  bytes: Uint8Array;
}

/** The length-delimited fields of one message (GraphProto's nodes, initializers, inputs...), as raw payloads. */
function lengthFields(bytes: Uint8Array): Span[] {
  const spans: Span[] = [];
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const [field, wire] = r.key();
    if (wire === 2) spans.push({ field, bytes: r.bytes() });
    else r.skip(wire);
  }
  return spans;
}

function strings(bytes: Uint8Array, field: number): string[] {
  const out: string[] = [];
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const [f, w] = r.key();
    if (f === field && w === 2) out.push(r.string());
    else r.skip(w);
  }
  return out;
}

const f32 = (name: string, dims: number[], data: Float32Array): TensorInit => ({ name, dtype: "float32", dims, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
/** The integer and integer-list attributes of a NodeProto (AttributeProto: name 1, i 3, ints 8). */
function intAttrs(node: Uint8Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const a of lengthFields(node).filter((x) => x.field === 5)) {
    let name = "";
    const values: number[] = [];
    const r = new ProtoReader(a.bytes);
    while (!r.done) {
      const [f, w] = r.key();
      if (f === 1 && w === 2) name = r.string();
      else if ((f === 3 || f === 8) && w === 0) values.push(Number(r.varint()));
      else if (f === 8 && w === 2) {
        const packed = new ProtoReader(r.bytes());
        while (!packed.done) values.push(Number(packed.varint()));
      } else r.skip(w);
    }
    out.set(name, values);
  }
  return out;
}

interface ConvNode {
  x: string;
  y: string;
  /** The names of its weight (O, C, k) and bias (O) initializers. */
  w: string;
  b?: string;
  out: number;
  channels: number;
  kernel: number;
  stride: number;
  pad: number;
}

type NodeMaker = (opType: string, ins: string[], outs: string[], attrs?: NodeDef["attrs"]) => NodeDef;

/**
 * One of Silero's 1-D convolutions (x (N, C, L), L fixed by the window) as one product: with the input flattened to
 * (N, C·L), output frame t of channel o is Σ_{c,j} W[o, c, j] · x[c, t·s − p + j], a column of a banded (C·L, O·L_out)
 * matrix that holds W's taps where they fall and zeros where they would read the padding. The product comes out as
 * (N, O·L_out), which is (N, O, L_out) without a copy, under the convolution's output name. The band is made from W
 * by nodes of its own (per frame t, W's taps (C, k, O) cropped and padded into rows t·s − p …), which onnxruntime
 * folds into one constant when it builds the session (and the session cache keeps folded): nothing is computed in
 * JavaScript. Returns its nodes, the initializers they add, and L_out.
 */
function bandedConv(conv: ConvNode, length: number, p: (x: string) => string, node: NodeMaker): { nodes: NodeDef[]; inits: TensorInit[]; length: number } {
  const { kernel: k, stride, pad, channels, out } = conv;
  const frames = Math.floor((length + 2 * pad - k) / stride) + 1;
  const n = (x: string) => p(`${conv.y.replace(/[^A-Za-z0-9]+/g, "_")}/${x}`);
  const inits: TensorInit[] = [i64(n("one"), [1]), i64(n("three"), [3]), i64(n("band_shape"), [channels * length, out * frames]), i64(n("flat"), [-1, channels * length]), i64(n("frames"), [-1, out, frames])];
  const nodes: NodeDef[] = [node("Transpose", [conv.w], [n("taps")], { perm: { kind: "ints", value: [1, 2, 0] } })]; // (C, k, O)
  const blocks: string[] = [];
  for (let t = 0; t < frames; t++) {
    // Tap j of frame t reads input frame l = t·s − p + j: keep the taps with 0 ≤ l < L, and place them at rows l.
    const first = t * stride - pad;
    const j0 = Math.max(0, -first);
    const j1 = Math.min(k, length - first);
    inits.push(i64(n(`from${t}`), [j0]), i64(n(`to${t}`), [j1]), i64(n(`pads${t}`), [0, first + j0, 0, 0, length - (first + j1), 0]));
    nodes.push(
      node("Slice", [n("taps"), n(`from${t}`), n(`to${t}`), n("one")], [n(`cut${t}`)]),
      node("Pad", [n(`cut${t}`), n(`pads${t}`)], [n(`rows${t}`)]), // (C, L, O)
      node("Unsqueeze", [n(`rows${t}`), n("three")], [n(`block${t}`)]), // (C, L, O, 1)
    );
    blocks.push(n(`block${t}`));
  }
  nodes.push(
    node("Concat", blocks, [n("blocks")], { axis: { kind: "int", value: 3 } }), // (C, L, O, L_out)
    node("Reshape", [n("blocks"), n("band_shape")], [n("band")]),
    node("Reshape", [conv.x, n("flat")], [n("rows")]),
    node("MatMul", [n("rows"), n("band")], [n("product")]),
  );
  let sum = n("product");
  if (conv.b !== undefined) {
    inits.push(i64(n("bias_shape"), [out, frames]), i64(n("bias_flat"), [out * frames]));
    nodes.push(
      node("Unsqueeze", [conv.b, n("one")], [n("bias_column")]),
      node("Expand", [n("bias_column"), n("bias_shape")], [n("bias_grid")]),
      node("Reshape", [n("bias_grid"), n("bias_flat")], [n("bias")]),
      node("Add", [n("product"), n("bias")], [n("biased")]),
    );
    sum = n("biased");
  }
  nodes.push(node("Reshape", [sum, n("frames")], [conv.y]));
  return { nodes, inits, length: frames };
}

const i64 = (name: string, values: number[]): TensorInit => ({ name, dtype: "int64", dims: [values.length], raw: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) });

/** PyTorch's LSTM gate blocks (i, f, g, o) of a (4H, ...) tensor, as ONNX's order (i, o, f, c). */
function onnxGates(w: Float32Array): Float32Array {
  const block = w.length / 4;
  const out = new Float32Array(w.length);
  [0, 3, 1, 2].forEach((from, to) => out.set(w.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** The sequence graph of a Silero VAD 16 kHz model file (see the top of this file); throws saying why a file does not fit. */
export function sileroSequenceModel(model: Uint8Array): Uint8Array {
  try {
    return readingOnnx(() => build(model));
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new OnnxFormatError(`not an ONNX file: ${err.message}`);
    throw err;
  }
}

function build(model: Uint8Array): Uint8Array {
  const graphSpan = lengthFields(model).find((s) => s.field === 7);
  if (!graphSpan) throw new Error("it has no graph");
  const graph = lengthFields(graphSpan.bytes);
  const nodes = graph.filter((s) => s.field === 1);
  const cut = nodes.findIndex((n) => strings(n.bytes, 2).includes(ENCODER_OUT));
  if (cut < 0) throw new Error(`it has no node that makes ${ENCODER_OUT}`);
  const kept = nodes.slice(0, cut + 1);
  for (const n of kept) {
    const op = strings(n.bytes, 4)[0] ?? "";
    const inputs = strings(n.bytes, 1);
    // The encoder must see each window alone: no state, no sample-rate switch, no subgraph.
    if (op === "If" || op === "Loop" || op === "Scan" || inputs.includes("state") || inputs.includes("sr")) {
      throw new Error(`its encoder node ${strings(n.bytes, 3)[0] ?? op} (${op}) reads ${inputs.join(", ")}: the windows cannot be batched`);
    }
  }
  const convs = kept.filter((n) => strings(n.bytes, 4)[0] === "Conv");
  const convInputs = new Set(convs.flatMap((n) => strings(n.bytes, 1).slice(1)));
  const convDims = new Map<string, number[]>();
  const weights = new Map<string, { dims: number[]; data: Float32Array }>();
  const initializers: Uint8Array[] = [];
  for (const s of graph.filter((x) => x.field === 5)) {
    const t = readInitializer(new ProtoReader(s.bytes));
    if (convInputs.has(t.name)) convDims.set(t.name, t.shape);
    if ((DECODER_WEIGHTS as readonly string[]).includes(t.name)) {
      if (t.dtype !== "float32") throw new Error(`its ${t.name} is not float32`);
      weights.set(t.name, { dims: t.shape, data: new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4) });
    } else initializers.push(s.bytes);
  }
  const get = (name: (typeof DECODER_WEIGHTS)[number], size: number): Float32Array => {
    const w = weights.get(name);
    if (!w || w.data.length !== size) throw new Error(w ? `its ${name} has ${w.data.length} values, not ${size}` : `it lacks ${name}`);
    return w.data;
  };
  const H = HIDDEN;
  const wih = get("model.decoder.rnn.weight_ih", 4 * H * H);
  const whh = get("model.decoder.rnn.weight_hh", 4 * H * H);
  const bias = new Float32Array(8 * H);
  bias.set(onnxGates(get("model.decoder.rnn.bias_ih", 4 * H)), 0);
  bias.set(onnxGates(get("model.decoder.rnn.bias_hh", 4 * H)), 4 * H);
  const inputs = graph.filter((s) => s.field === 11 && ["input", "state"].includes(strings(s.bytes, 1)[0] ?? ""));
  if (inputs.length !== 2) throw new Error("it lacks the graph inputs input and state");

  const p = (x: string) => `nast/${x}`;
  const added: TensorInit[] = [
    f32(p("W"), [1, 4 * H, H], onnxGates(wih)),
    f32(p("R"), [1, 4 * H, H], onnxGates(whh)),
    f32(p("B"), [1, 8 * H], bias),
    f32(p("decoder_w"), [H, 1], get("model.decoder.decoder.2.weight", H)),
    f32(p("decoder_b"), [1], get("model.decoder.decoder.2.bias", 1)),
    i64(p("seq_shape"), [-1, 1, H]),
    i64(p("rows_shape"), [-1, H]),
    i64(p("zero"), [0]),
    i64(p("one"), [1]),
    i64(p("two"), [2]),
  ];
  const node = (opType: string, ins: string[], outs: string[], attrs: NodeDef["attrs"] = {}): NodeDef => ({ opType, name: p(opType + "_" + outs[0]!.replace(/^nast\//, "")), inputs: ins, outputs: outs, attrs });
  const addedNodes: NodeDef[] = [
    node("Reshape", [ENCODER_OUT, p("seq_shape")], [p("seq")]),
    node("Slice", ["state", p("zero"), p("one"), p("zero")], [p("h0")]),
    node("Slice", ["state", p("one"), p("two"), p("zero")], [p("c0")]),
    node("LSTM", [p("seq"), p("W"), p("R"), p("B"), "", p("h0"), p("c0")], [p("y"), p("h"), p("c")], { hidden_size: { kind: "int", value: H } }),
    node("Reshape", [p("y"), p("rows_shape")], [p("rows")]),
    node("Relu", [p("rows")], [p("relu")]),
    node("MatMul", [p("relu"), p("decoder_w")], [p("logit0")]),
    node("Add", [p("logit0"), p("decoder_b")], [p("logit")]),
    node("Sigmoid", [p("logit")], ["output"]),
    node("Concat", [p("h"), p("c")], ["stateN"], { axis: { kind: "int", value: 0 } }),
  ];

  // The convolutions, in graph order, each on the length the one before leaves (the STFT's input is fixed).
  const banded = new Map<Uint8Array, NodeDef[]>();
  let length = STFT_INPUT;
  for (const c of convs) {
    const [x, w, b] = strings(c.bytes, 1) as [string, string, string | undefined];
    const [y] = strings(c.bytes, 2) as [string];
    const attrs = intAttrs(c.bytes);
    const kernel = attrs.get("kernel_shape") ?? [];
    const pads = attrs.get("pads") ?? [0, 0];
    const dims = convDims.get(w);
    const plain = kernel.length === 1 && (attrs.get("group") ?? [1])[0] === 1 && (attrs.get("dilations") ?? [1]).every((d) => d === 1) && pads.length === 2 && pads[0] === pads[1];
    if (!plain || dims?.length !== 3 || dims[2] !== kernel[0] || (b !== undefined && convDims.get(b)?.join() !== String(dims[0]))) {
      throw new Error(`its convolution ${strings(c.bytes, 3)[0] ?? y} is not a plain 1-D one (one group, no dilation, even padding, its weight and bias initializers)`);
    }
    const conv = { x, y, w, ...(b !== undefined ? { b } : {}), out: dims[0]!, channels: dims[1]!, kernel: kernel[0]!, stride: (attrs.get("strides") ?? [1])[0]!, pad: pads[0]! };
    const r = bandedConv(conv, length, p, node);
    banded.set(c.bytes, r.nodes);
    added.push(...r.inits);
    length = r.length;
  }
  if (length !== 1) throw new Error(`its encoder leaves ${length} frames per window, not 1`);

  const g = new ProtoWriter();
  for (const n of kept) {
    const replaced = banded.get(n.bytes);
    if (replaced) for (const r of replaced) g.message(1, nodeProto(r));
    else g.bytesField(1, n.bytes);
  }
  for (const n of addedNodes) g.message(1, nodeProto(n));
  g.string(2, "silero_vad_sequence");
  for (const t of initializers) g.bytesField(5, t);
  for (const t of added) g.message(5, tensorProto(t));
  for (const i of inputs) g.bytesField(11, i.bytes);
  g.message(12, valueInfoProto({ name: "output", dtype: "float32", dims: ["N", 1] }));
  g.message(12, valueInfoProto({ name: "stateN", dtype: "float32", dims: [2, 1, H] }));

  // Everything else of the ModelProto (IR version, opset imports, producer) as it was; its metadata (14) is
  // left out, as it describes the file, not this graph.
  const m = new ProtoWriter();
  const r = new ProtoReader(model);
  while (!r.done) {
    const [field, wire] = r.key();
    if (wire === 0) m.int(field, r.varint());
    else if (wire === 2) {
      const bytes = r.bytes();
      if (field === 7) m.message(7, g);
      else if (field !== 14) m.bytesField(field, bytes);
    } else throw new Error(`it has an unexpected field ${field} (wire type ${wire}) in its ModelProto`);
  }
  return m.toBuffer();
}

/** The sequence graph on a session: each run of windows is one call, the LSTM state carried from call to call. */
export class SileroSequence implements SileroNetwork {
  constructor(
    private readonly ort: OrtTensors,
    private readonly session: InferenceSession,
    readonly path: string,
  ) {}

  start(): SileroRun {
    let state: Tensor = new this.ort.Tensor("float32", new Float32Array(2 * HIDDEN), [2, 1, HIDDEN]);
    return async (rows, count) => {
      const out = await this.session.run({ input: new this.ort.Tensor("float32", rows, [count, SILERO_ROW]), state });
      const probs = out.output;
      const next = out.stateN;
      if (probs === undefined || next === undefined || probs.data.length !== count) throw new Error(`${this.path}: its sequence graph returned no 'output' of ${count} probabilities or no 'stateN'`);
      state = next;
      return probs.data as Float32Array;
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
