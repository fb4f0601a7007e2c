// Builds small ONNX graphs with OnnxOps and runs them in onnxruntime-node (test support).
import * as ort from "onnxruntime-node";
import { GraphBuilder, type Value } from "../../src/export/graph.ts";
import { OnnxOps } from "../../src/export/onnx-ops.ts";
import { modelProto, type DType } from "../../src/formats/onnx-proto.ts";
import type { StoredTensor } from "../../src/export/checkpoint.ts";
import type { NastConfig } from "../../src/model/config.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { trainSpm, writeRandomCheckpoint } from "../infer/fixtures.ts";

export interface Feed {
  dtype: DType;
  dims: number[];
  data: number[] | Float32Array | BigInt64Array | Uint8Array;
  /** Symbolic names of the graph input's dims (default: fixed sizes). */
  symbolic?: (string | number)[];
}

export function floatTensor(shape: number[], data: number[]): StoredTensor {
  return { dtype: "float32", shape, data: new Uint8Array(Float32Array.from(data).buffer) };
}

function ortTensor(f: Feed): ort.Tensor {
  switch (f.dtype) {
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(f.data as ArrayLike<number>), f.dims);
    case "int64":
      return new ort.Tensor("int64", f.data instanceof BigInt64Array ? f.data : BigInt64Array.from(f.data as number[], (v) => BigInt(v)), f.dims);
    case "bool":
      return new ort.Tensor("bool", Uint8Array.from(f.data as ArrayLike<number>), f.dims);
    default:
      throw new Error(`test feed dtype ${f.dtype}`);
  }
}

export interface Result {
  dims: readonly number[];
  data: number[];
}

/** Builds a graph whose inputs are `feeds`, whose outputs are what `build` returns, and runs it. */
export async function runOps(
  feeds: Record<string, Feed>,
  build: (ops: OnnxOps, inputs: Record<string, Value>) => Value | Value[],
  state: Map<string, StoredTensor> = new Map(),
  feedsList: Record<string, Feed>[] = [feeds],
): Promise<Result[][]> {
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state);
  const inputs: Record<string, Value> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = g.input(name, f.dtype, f.symbolic ?? f.dims);
  const built = build(ops, inputs);
  const outs = Array.isArray(built) ? built : [built];
  outs.forEach((v, i) => g.output(v, `out${i}`));
  const bytes = Buffer.concat(modelProto(g.model({ graphName: "test", metadata: {}, producerVersion: "test" })));
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all" });
  const results: Result[][] = [];
  for (const fs of feedsList) {
    const feed: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(fs)) feed[name] = ortTensor(f);
    const out = await session.run(feed);
    results.push(
      outs.map((_, i) => {
        const t = out[`out${i}`]!;
        const data = Array.from(t.data as ArrayLike<number | bigint | boolean>, (v) => Number(v));
        return { dims: t.dims, data };
      }),
    );
  }
  await session.release();
  return results;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ""): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= tol)) throw new Error(`${what}: max |diff| ${worst} at ${at} (got ${actual[at]}, want ${expected[at]}) > ${tol}`);
}

/**
 * What `nast export` needs, under `work`: DATA_DIR/spm.model of `vocab` pieces and a random-weight checkpoint of
 * `cfg` at DATA_DIR/exp/ckpt.safetensors (export finds the spm.model two directories above it).
 */
export function exportFixture(work: string, cfg: NastConfig, seed: number): { spm: string; ckpt: string } {
  const spm = trainSpm(join(work, "data"), cfg.vocabSize);
  mkdirSync(join(work, "data", "exp"), { recursive: true });
  const ckpt = join(work, "data", "exp", "ckpt.safetensors");
  writeRandomCheckpoint(ckpt, cfg, seed);
  return { spm, ckpt };
}

/** The target log-probabilities of a model package's model.onnx for one fixed 120-frame input. */
export async function logProbs(modelPath: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath);
  const T = 120;
  const feats = Float32Array.from({ length: T * 80 }, (_, i) => Math.sin(i * 0.11) + Math.cos(i * 0.017));
  const out = await session.run({ feats: new ort.Tensor("float32", feats, [1, T, 80]), lengths: new ort.Tensor("int64", BigInt64Array.from([BigInt(T)]), [1]) });
  await session.release();
  return out.tgt_log_probs!.data as Float32Array;
}
