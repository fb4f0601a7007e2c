// Export parity ("one model definition, two executions", docs/design.md §5): the same weights run by
// the eager libtorch forward (src/eager/eager-ops.ts) and by the exported ONNX graph in onnxruntime-node must
// agree to max |Δ log-prob| <= 1e-4 over valid frames, with identical greedy output, on random and real
// (espeak-ng speech → fbank → CMVN) inputs, with LiSA layers (tiny preset) and the other options.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { Tensor, noGrad, tidy, setNumThreads } from "../../src/torch/index.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { forward } from "../../src/model/nast.ts";
import { loadConfig, withVocabSize, type NastConfig } from "../../src/model/config.ts";
import { paramSpecs } from "../../src/model/params.ts";
import { buildOnnxModel } from "../../src/export/exporter.ts";
import { randomStateDict } from "../../src/export/random-state.ts";
import type { StoredTensor } from "../../src/export/checkpoint.ts";
import { fbank } from "../../src/audio/fbank.ts";
import { utteranceCmvn } from "../../src/audio/cmvn.ts";
import { greedyDecode } from "../../src/infer/ctc.ts";
import { Rng } from "../../src/util/rng.ts";
import { synthTalk, SENTENCES_EN } from "../infer/fixtures.ts";
import { segmentSpeech } from "../../src/audio/segment.ts";

interface Utterance {
  feats: Float32Array;
  frames: number;
}

/** Random weights, with the ones/zeros-initialised parameters and buffers perturbed so they matter. */
function weights(cfg: NastConfig, seed: number): Map<string, StoredTensor> {
  const state = randomStateDict(cfg, seed);
  const rng = new Rng(seed + 100);
  for (const spec of paramSpecs(cfg)) {
    if (spec.init.kind !== "ones" && spec.init.kind !== "zeros") continue;
    const v = new Float32Array(state.get(spec.name)!.data.buffer);
    for (let i = 0; i < v.length; i++) v[i] = spec.name.endsWith("running_var") ? 0.5 + rng.uniform() : v[i]! + 0.2 * (rng.uniform() - 0.5);
  }
  return state;
}

function randomUtterances(lengths: number[], seed: number): Utterance[] {
  const rng = new Rng(seed);
  return lengths.map((frames) => ({ frames, feats: Float32Array.from({ length: frames * 80 }, () => rng.normal()) }));
}

function pad(items: Utterance[]): { feats: Float32Array; lengths: number[]; T: number } {
  const T = Math.max(...items.map((u) => u.frames));
  const feats = new Float32Array(items.length * T * 80);
  items.forEach((u, b) => feats.set(u.feats, b * T * 80));
  return { feats, lengths: items.map((u) => u.frames), T };
}

interface Outputs {
  logProbs: Float32Array;
  srcIds: number[];
  tgtIds: number[];
  outLengths: number[];
  steps: number;
}

function eager(cfg: NastConfig, state: Map<string, StoredTensor>, items: Utterance[]): Outputs {
  const { feats, lengths, T } = pad(items);
  return noGrad(() =>
    tidy(() => {
      const params = new Map<string, Tensor>();
      for (const [name, t] of state) params.set(name, Tensor.fromBytes(t.data, t.shape, t.dtype as "float32"));
      const ops = new EagerOps(params, false);
      const x = Tensor.fromTypedArray(feats, [items.length, T, 80], "float32");
      const l = Tensor.fromTypedArray(BigInt64Array.from(lengths, BigInt), [items.length], "int64");
      const out = forward(ops, cfg, x, l);
      const lp = out.tgtLogits.logSoftmax(2);
      return {
        logProbs: Float32Array.from(lp.data() as Float32Array),
        srcIds: Array.from(out.srcLogits.argmax(2).data() as BigInt64Array, Number),
        tgtIds: Array.from(out.tgtLogits.argmax(2).data() as BigInt64Array, Number),
        outLengths: Array.from(out.outLengths.data() as BigInt64Array, Number),
        steps: lp.shape[1]!,
      };
    }),
  );
}

async function onnx(session: ort.InferenceSession, items: Utterance[]): Promise<Outputs> {
  const { feats, lengths, T } = pad(items);
  const out = await session.run({
    feats: new ort.Tensor("float32", feats, [items.length, T, 80]),
    lengths: new ort.Tensor("int64", BigInt64Array.from(lengths, BigInt), [items.length]),
  });
  return {
    logProbs: out.tgt_log_probs!.data as Float32Array,
    srcIds: Array.from(out.src_ids!.data as BigInt64Array, Number),
    tgtIds: Array.from(out.tgt_ids!.data as BigInt64Array, Number),
    outLengths: Array.from(out.out_lengths!.data as BigInt64Array, Number),
    steps: out.tgt_ids!.dims[1]!,
  };
}

/** Max |Δ| over valid frames, and equality of the greedy decodings (target and source). */
function compare(a: Outputs, b: Outputs, V: number, what: string): number {
  assert.deepEqual(b.outLengths, a.outLengths, `${what}: output lengths`);
  assert.equal(b.steps, a.steps, `${what}: padded output length`);
  let worst = 0;
  a.outLengths.forEach((len, i) => {
    for (let t = 0; t < len; t++) {
      const row = (i * a.steps + t) * V;
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(a.logProbs[row + v]! - b.logProbs[row + v]!));
    }
    const slice = (ids: number[]): number[] => ids.slice(i * a.steps, i * a.steps + a.steps);
    const greedy = (ids: number[]): number[] => greedyDecode(slice(ids), undefined, len).tokens.map((tk) => tk.id);
    assert.deepEqual(greedy(b.tgtIds), greedy(a.tgtIds), `${what}: greedy target output of utterance ${i}`);
    assert.deepEqual(greedy(b.srcIds), greedy(a.srcIds), `${what}: greedy source output of utterance ${i}`);
  });
  assert.ok(worst <= 1e-4, `${what}: max |Δ log-prob| ${worst} > 1e-4`);
  return worst;
}

let realUtterances: Utterance[] = [];
let work = "";

before(async () => {
  setNumThreads(1);
  work = mkdtempSync(join(tmpdir(), "nast-parity-"));
  const talk = await synthTalk(work, SENTENCES_EN.slice(0, 3), 0.8);
  realUtterances = segmentSpeech(talk.samples, 16000, { maxSeconds: 20 }).map((s) => {
    const f = fbank(talk.samples.subarray(s.start, s.end), 16000);
    utteranceCmvn(f.data, f.frames, 80);
    return { feats: f.data, frames: f.frames };
  });
  rmSync(work, { recursive: true, force: true });
});

const variants: [string, (cfg: NastConfig) => NastConfig][] = [
  ["tiny (LiSA acoustic+textual, logits sharing, CLA, PAE)", (c) => c],
  ["tiny with LiSA probs sharing, swish conv activation, 3 subsampler layers", (c) => ({ ...c, lisa: { ...c.lisa, shareSpace: "probs" }, acoustic: { ...c.acoustic, convActivation: "swish" }, subsampler: { ...c.subsampler, layers: 3 } })],
  ["tiny without LiSA, CLA, PAE and adapter", (c) => ({ ...c, lisa: { ...c.lisa, acoustic: [], textual: [] }, adapter: false, acoustic: { ...c.acoustic, pae: false }, textual: { ...c.textual, pae: false, cla: { ...c.textual.cla, enabled: false } } })],
];

for (const [name, edit] of variants) {
  test(`ONNX export matches the eager libtorch forward: ${name}`, async () => {
    const cfg = edit(withVocabSize(loadConfig("tiny"), 96));
    const state = weights(cfg, 7);
    const built = buildOnnxModel(cfg, state);
    const session = await ort.InferenceSession.create(Buffer.concat(built.chunks), { intraOpNumThreads: 1 });
    const V = cfg.vocabSize;
    const random = randomUtterances([173, 120, 61, 9], 3);
    const worstRandom = compare(eager(cfg, state, random), await onnx(session, random), V, `${name}, random batch`);
    // Batch of one (no padding) and the real speech segments, batched.
    compare(eager(cfg, state, random.slice(1, 2)), await onnx(session, random.slice(1, 2)), V, `${name}, single`);
    assert.ok(realUtterances.length >= 2, "the synthetic talk is cut into several segments");
    const worstReal = compare(eager(cfg, state, realUtterances), await onnx(session, realUtterances), V, `${name}, real speech`);
    await session.release();
    process.stdout.write(`# parity ${name}: max |Δ log-prob| random ${worstRandom.toExponential(2)}, real ${worstReal.toExponential(2)}\n`);
  });
}
