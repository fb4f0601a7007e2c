// Where a model package's network spends its time: onnxruntime's own profiler over a few runs of one input
// of synthetic features at batch 1, summed per operator type, and the share of the vocabulary-sized nodes
// (those with an input or output dimension equal to the vocabulary: the CTC projections and the embeddings
// of CTC probabilities that PAE and the adapter add back), by operator. The features are not speech, but the
// network's time depends on the frames only. Run: node --import tsx scripts/profile-network.ts [MODEL_DIR]
// [--seconds 10] [--threads 2] [--runs 5]. README.md ("Where the network's time goes") shows its output.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { loadModelPackage } from "../src/formats/model-package.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: "string", default: "10" }, threads: { type: "string", default: "2" }, runs: { type: "string", default: "5" } },
});
const pkg = loadModelPackage(positionals[0]);
const frames = Math.round(Number(values.seconds) * 100);
const runs = Number(values.runs);
const profileDir = mkdtempSync(join(tmpdir(), "nast-profile-"));
const session = await ort.InferenceSession.create(pkg.onnx, {
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  interOpNumThreads: 1,
  intraOpNumThreads: Number(values.threads),
  enableProfiling: true,
  profileFilePrefix: join(profileDir, "profile"),
});
const feats = new Float32Array(frames * pkg.cfg.inputDim).map((_, i) => Math.sin(i * 0.37));
const inputs = { feats: new ort.Tensor("float32", feats, [1, frames, pkg.cfg.inputDim]), lengths: new ort.Tensor("int64", BigInt64Array.from([BigInt(frames)]), [1]) };
for (let r = 0; r <= runs; r++) await session.run(inputs); // the first is a warm-up
// onnxruntime-node writes PREFIX_<date>.json and does not say which (endProfiling returns nothing).
session.endProfiling();
await session.release();
const file = join(profileDir, readdirSync(profileDir).find((f) => f.endsWith(".json"))!);

interface Event { cat?: string; name: string; ts: number; dur: number; args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] } }
const events = JSON.parse(readFileSync(file, "utf8")) as Event[];
rmSync(profileDir, { recursive: true, force: true });
const runStarts = events.filter((e) => e.name === "model_run").map((e) => e.ts).sort((a, b) => a - b);
const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= runStarts[1]!);
const ms = (us: number) => (us / 1000 / runs).toFixed(2);
const shapes = (e: Event) => [...(e.args?.input_type_shape ?? []), ...(e.args?.output_type_shape ?? [])].flatMap((s) => Object.values(s));
const sum = (list: Event[]) => list.reduce((n, e) => n + e.dur, 0);
const byOp = (list: Event[]) => {
  const out = new Map<string, number>();
  for (const e of list) out.set(e.args?.op_name ?? "?", (out.get(e.args?.op_name ?? "?") ?? 0) + e.dur);
  return [...out].sort((a, b) => b[1] - a[1]);
};
const total = sum(nodes);
const vocab = nodes.filter((e) => shapes(e).some((dims) => dims.includes(pkg.cfg.vocabSize)));
console.log(`${pkg.dir}: ${values.seconds} s (${frames} frames) at batch 1, ${values.threads} threads, ${runs} runs after a warm-up`);
console.log(`network: ${ms(total)} ms per run`);
console.log(`by operator: ${byOp(nodes).slice(0, 10).map(([op, us]) => `${op} ${ms(us)}`).join(", ")} ms`);
console.log(
  `vocabulary-sized nodes (a dimension of ${pkg.cfg.vocabSize}): ${ms(sum(vocab))} ms, ${((100 * sum(vocab)) / total).toFixed(1)}% of the network: ` +
    byOp(vocab).map(([op, us]) => `${op} ${ms(us)}`).join(", ") + " ms",
);
