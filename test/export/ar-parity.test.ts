// Export parity of the autoregressive counterpart (docs/model.md §10.4): `nast export` of an AR checkpoint writes
// model.onnx (the encoder) and decoder.onnx (one decoder step, cache in, cache out); in onnxruntime-node they give
// the libtorch forward's source CTC argmax, lengths and cross-attention keys/values, and at every step of a beam
// search the libtorch stepper's next-token log-probabilities (max |Δ| <= 1e-4), so greedy and beam search find
// the same translations on both engines. A package whose decoder.onnx is missing or from another export is refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelConfig, withVocabSize, type ArConfig } from "../../src/model/config.ts";
import { paramSpecs } from "../../src/model/params.ts";
import { EOS_ID } from "../../src/model/token-ids.ts";
import { exportModel } from "../../src/export/exporter.ts";
import { readCheckpoint, toHostTensors } from "../../src/export/checkpoint.ts";
import { randomStateDict } from "../../src/export/random-state.ts";
import { encodeSafetensors } from "../../src/formats/safetensors.ts";
import { loadModelPackage, ModelPackageError } from "../../src/formats/model-package.ts";
import { openSession } from "../../src/infer/session.ts";
import { OrtArRunner } from "../../src/infer/ar-runner.ts";
import { search, searchAsync, type StepRequest } from "../../src/infer/ar-search.ts";
import { EagerArStepper } from "../../src/eager/ar-stepper.ts";
import { fromHost } from "../../src/train/host-tensors.ts";
import { setNumThreads, tensor } from "../../src/torch/index.ts";
import { Rng } from "../../src/util/rng.ts";
import { trainSpm } from "../infer/fixtures.ts";
import { assertClose } from "./helpers.ts";

setNumThreads(1);
const V = 48;
const cfg = withVocabSize(loadModelConfig("ar-tiny") as ArConfig, V);
let work: string;
let pkgDir: string;
let ckpt: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), "nast-ar-export-"));
  const state = randomStateDict(cfg, 9);
  const rng = new Rng(3);
  for (const spec of paramSpecs(cfg)) {
    // Ones/zeros-initialised parameters and buffers perturbed so that they matter; the </s> row of the tied
    // embedding zeroed so that a random decoder does not end every translation at once.
    const v = new Float32Array(state.get(spec.name)!.data.buffer);
    if (spec.init.kind === "ones" || spec.init.kind === "zeros") for (let i = 0; i < v.length; i++) v[i] = spec.name.endsWith("running_var") ? 0.5 + rng.uniform() : v[i]! + 0.2 * (rng.uniform() - 0.5);
    if (spec.name === "decoder.embed.weight") v.fill(0, EOS_ID * cfg.dModel, (EOS_ID + 1) * cfg.dModel);
  }
  ckpt = join(work, "ckpt.safetensors");
  writeFileSync(ckpt, encodeSafetensors(toHostTensors(state), { "nast.config": JSON.stringify(cfg), "nast.step": "7" }));
  pkgDir = join(work, "pkg");
  exportModel({ checkpoint: ckpt, outDir: pkgDir, spm: trainSpm(join(work, "spm"), V) });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Features of `frames` frames, smooth in time (like speech features after CMVN), different per utterance. */
function features(frames: number, seed: number): Float32Array {
  return Float32Array.from({ length: frames * 80 }, (_, i) => Math.sin(0.013 * i + seed) + 0.5 * Math.cos(0.41 * (i % 80) * (seed + 1)));
}

test("the package holds both graphs; onnxruntime's encoder and decoder steps match libtorch's, and so do the searches", async () => {
  for (const f of ["model.onnx", "decoder.onnx", "spm.model", "config.json", "MODEL_CARD.md"]) assert.ok(existsSync(join(pkgDir, f)), f);
  const pkg = loadModelPackage(pkgDir);
  const runner = await openSession(pkg, { threads: 1 });
  assert.ok(runner instanceof OrtArRunner);

  const frames = [61, 44, 53];
  const items = frames.map((n, b) => ({ frames: n, feats: features(n, b) }));
  const T = Math.max(...frames);
  const padded = new Float32Array(frames.length * T * 80);
  items.forEach((x, b) => padded.set(x.feats, b * T * 80));
  const params = new Map([...toHostTensors(readCheckpoint(ckpt).tensors)].map(([n, h]) => [n, fromHost(h, "cpu", n)]));
  const eager = EagerArStepper.encode(cfg, params, tensor(padded, { shape: [frames.length, T, 80] }), tensor(BigInt64Array.from(frames, BigInt)), "cpu", false);

  const onnx = await runner.encode(items);
  const lengths = eager.encoded.outLengths.toArray() as number[];
  assert.deepEqual(onnx.outLengths, lengths);
  assert.deepEqual(Array.from(onnx.srcIds, Number), eager.encoded.srcLogits.argmax(2).toArray());

  // Every step of an eager beam search, replayed in onnxruntime: the same log-probabilities.
  const requests: StepRequest[] = [];
  const expected: Float32Array[] = [];
  const eagerBeam = search({ vocabSize: V, step: (r) => (requests.push(structuredClone(r)), expected.push(eager.step(r)), expected.at(-1)!) }, lengths, 4);
  assert.ok(requests.length >= 4, `${requests.length} steps`);
  for (let i = 0; i < requests.length; i++) assertClose(await onnx.stepper.step(requests[i]!), expected[i]!, 1e-4, `step ${i}`);
  eager.dispose();

  for (const beam of [1, 4]) {
    const viaOnnx = await runner.search(items, beam);
    const viaEager = beam === 4 ? eagerBeam : greedyEager(params, padded, frames, T, lengths);
    assert.deepEqual(viaOnnx.hypotheses.map((h) => h.tokens), viaEager.map((h) => h.tokens), `beam ${beam}`);
    viaOnnx.hypotheses.forEach((h, b) => assert.ok(Math.abs(h.score - viaEager[b]!.score) < 1e-3));
  }
  assert.ok(eagerBeam.some((h) => h.tokens.length > 0), "some translation is not empty");
  await runner.release();
  for (const t of params.values()) t.dispose();
});

function greedyEager(params: Map<string, ReturnType<typeof fromHost>>, padded: Float32Array, frames: number[], T: number, lengths: number[]) {
  const s = EagerArStepper.encode(cfg, params, tensor(padded, { shape: [frames.length, T, 80] }), tensor(BigInt64Array.from(frames, BigInt)), "cpu", false);
  try {
    return search(s, lengths, 1);
  } finally {
    s.dispose();
  }
}

test("an AR package without its decoder.onnx, or with another export's, is refused by name", async () => {
  const broken = join(work, "broken");
  const other = join(work, "other");
  const cfg2 = { ...cfg, description: "another export" };
  const ckpt2 = join(work, "ckpt2.safetensors");
  writeFileSync(ckpt2, encodeSafetensors(toHostTensors(randomStateDict(cfg2, 2)), { "nast.config": JSON.stringify(cfg2) }));
  exportModel({ checkpoint: ckpt2, outDir: other, spm: join(pkgDir, "spm.model") });
  exportModel({ checkpoint: ckpt, outDir: broken, spm: join(pkgDir, "spm.model") });
  copyFileSync(join(other, "decoder.onnx"), join(broken, "decoder.onnx"));
  assert.throws(() => loadModelPackage(broken), (e: Error) => e instanceof ModelPackageError && /broken\/decoder\.onnx: was not exported with model\.onnx/.test(e.message));
  unlinkSync(join(broken, "decoder.onnx"));
  assert.throws(() => loadModelPackage(broken), /broken\/decoder\.onnx: missing from the model package/);
  await searchAsync({ vocabSize: V, step: async () => new Float32Array(V).fill(Math.log(1 / V)) }, [0], 3).then((h) => assert.deepEqual(h[0]!.tokens, []));
});
