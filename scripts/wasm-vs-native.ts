// How far onnxruntime-web's wasm kernels are from onnxruntime-node's native ones on the shipped int8
// model, next to how far onnxruntime-node moves itself between graph optimization levels: example.wav
// (models/default) through the CLI's Translator (Silero segments, batches as `nast translate` makes them)
// on each engine; for each batch, the largest difference of the target log-probabilities from
// onnxruntime-node at level "all" (what `nast translate` runs) and the output frames whose best token
// differs, then each engine's translation. Run: node --import tsx scripts/wasm-vs-native.ts.
// docs/web.md shows and explains its output.
import { join } from "node:path";
import * as native from "onnxruntime-node";
import * as wasm from "onnxruntime-web";
import { loadModelPackage } from "../src/formats/model-package.ts";
import type { BatchOutput, BatchRunner } from "../src/infer/batch-runner.ts";
import { OrtBatchRunner } from "../src/infer/ort-runner.ts";
import { Translator } from "../src/infer/translator.ts";
import { SileroVad } from "../src/infer/vad.ts";
import { REPO_ROOT } from "../test/helpers/cli.ts";

wasm.env.wasm.numThreads = 1;
const pkg = loadModelPackage(undefined);
const vad = await SileroVad.load();
const example = join(REPO_ROOT, "models/default/example.wav");
const base = { executionMode: "sequential", interOpNumThreads: 1, intraOpNumThreads: 1 } as const;
const engines = [
  { name: "onnxruntime-node, all", ort: native, level: "all" },
  { name: "onnxruntime-node, disabled", ort: native, level: "disabled" },
  { name: "onnxruntime-web wasm, all", ort: wasm, level: "all" },
] as const;

/** Fetches the log-probabilities too, and keeps every batch's outputs. */
function recording(inner: BatchRunner, batches: BatchOutput[]): BatchRunner {
  return { run: async (items) => (batches[batches.length] = await inner.run(items, "logProbs")) };
}

const runs: { name: string; batches: BatchOutput[]; translation: string }[] = [];
for (const e of engines) {
  const session = await (e.ort as typeof native).InferenceSession.create(pkg.onnx, { ...base, graphOptimizationLevel: e.level });
  const batches: BatchOutput[] = [];
  const translator = new Translator(pkg, recording(new OrtBatchRunner(e.ort, session, pkg.cfg.inputDim, pkg.cfg.vocabSize), batches), { segmenter: vad, progress: false });
  runs.push({ name: e.name, batches, translation: (await translator.translateFile(example, "model")).translation });
}
const [ref, ...others] = runs;
for (const [b, out] of ref!.batches.entries()) {
  const cells = others.map((o) => {
    const x = o.batches[b]!;
    let max = 0;
    for (let j = 0; j < x.tgtLogProbs!.length; j++) max = Math.max(max, Math.abs(x.tgtLogProbs![j]! - out.tgtLogProbs![j]!));
    const differ = x.tgtIds.filter((id, j) => id !== out.tgtIds[j]).length;
    return `${o.name}: max |Δ log p| ${max.toFixed(3)}, best token differs in ${differ}/${out.tgtIds.length} frames`;
  });
  process.stdout.write(`batch ${b + 1} (${out.batch} segments) against ${ref!.name}: ${cells.join("; ")}\n`);
}
for (const r of runs) process.stdout.write(`${r.name}: ${r.translation}\n`);
