// `nast bench lisa [--json]`: one self-attention layer of the small preset, full against LiSA, as exported
// (onnxruntime-node, random weights, batch 1), at the sequence lengths nast runs (T' = 125-500: 5-20 s of
// audio after the 4x subsampler). With --profile, onnxruntime's own per-node trace is summed by operator
// type, so the time a LiSA layer adds or saves is seen operator by operator (the LiSA paper, Mu et al.,
// TACL 2026, measures its gain on LLM-sized layers; this checks it at ours).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { GraphBuilder } from "../export/graph.ts";
import { OnnxOps } from "../export/onnx-ops.ts";
import { randomStateDict } from "../export/random-state.ts";
import { modelProto } from "../formats/onnx-proto.ts";
import { selfAttention } from "../model/attention.ts";
import { loadConfig, type NastConfig } from "../model/config.ts";
import type { StoredTensor } from "../export/checkpoint.ts";
import type { ModelContext } from "../model/context.ts";
import type { Value } from "../export/graph.ts";
import { UsageError } from "../util/errors.ts";
import { parseFlags } from "./args.ts";

const USAGE = `usage: nast bench lisa [--json] [--lengths 125,250,500] [--threads 2] [--repeat 21] [--profile]

Times one textual self-attention layer of the small preset, full (layer 3) and LiSA (layer 4: the head
alignment of the previous layer's logits plus the low-rank difference), as \`nast export\` writes them,
in onnxruntime-node at batch 1, for each length T' (frames after the subsampler; 25 per second of audio).
The median of --repeat runs counts. --profile adds each layer's onnxruntime time per operator type.

options:
      --lengths LIST  T' values (default 125,250,500)
      --threads N     onnxruntime intra-op threads (default 2)
      --repeat N      runs per setting (default 21)
      --profile       per-operator times from onnxruntime's profiler
      --json          print JSON rows instead of a Markdown table
  -h, --help          this help
`;

interface Row {
  layer: "full" | "lisa";
  frames: number;
  ms: number;
  /** Milliseconds per operator type (with --profile), largest first. */
  operators?: Record<string, number>;
}

/** The ONNX graph of one textual self-attention layer: inputs x (1, T, d), previous (1, H, T, T); output (1, T, d). */
function layerGraph(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, lisa: boolean): Uint8Array {
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state);
  const c: ModelContext<Value> = { ops, cfg, random: Math.random, record: false, teacher: false, records: [] };
  const x = g.input("x", "float32", [1, "T", cfg.dModel]);
  const previous = g.input("previous", "float32", [1, cfg.heads, "T", "T"]);
  const keyMask = g.input("key_mask", "bool", [1, 1, 1, "T"]);
  const layer = lisa ? 4 : 3;
  const { out, shared } = selfAttention(c, { prefix: `textual.layers.${layer - 1}.attn`, encoder: "textual", layer, x, keyMask, lisa, ...(lisa ? { previous } : {}) });
  g.output(out, "out");
  g.output(shared, "shared");
  return Buffer.concat(modelProto(g.model({ graphName: "layer", metadata: {}, producerVersion: "bench" })));
}

/** Sums the node events of an onnxruntime profile by operator type, in milliseconds per run. */
function operatorTimes(profile: string, runs: number): Record<string, number> {
  const events = JSON.parse(readFileSync(profile, "utf8")) as { cat?: string; dur?: number; args?: { op_name?: string } }[];
  const sums = new Map<string, number>();
  for (const e of events) {
    const op = e.args?.op_name;
    if (e.cat === "Node" && op !== undefined && e.dur !== undefined) sums.set(op, (sums.get(op) ?? 0) + e.dur / 1000 / runs);
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(3))]));
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    { args: argv, options: { json: { type: "boolean" }, lengths: { type: "string" }, threads: { type: "string" }, repeat: { type: "string" }, profile: { type: "boolean" } } },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const lengths = (v.lengths ?? "125,250,500").split(",").map(Number);
  const threads = Number(v.threads ?? 2);
  const repeat = Number(v.repeat ?? 21);
  if ([...lengths, threads, repeat].some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`bad --lengths, --threads or --repeat\n\n${USAGE}`);
  const ort = await import("onnxruntime-node");
  const cfg = loadConfig("small");
  const state = randomStateDict(cfg, 1);
  const work = mkdtempSync(join(tmpdir(), "nast-bench-lisa-"));
  const rows: Row[] = [];
  try {
    for (const layer of ["full", "lisa"] as const) {
      const graph = layerGraph(cfg, state, layer === "lisa");
      for (const T of lengths) {
        const options: InferenceSession.SessionOptions = { graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1 };
        if (v.profile) Object.assign(options, { enableProfiling: true, profileFilePrefix: join(work, `${layer}-${T}`) });
        const session = await ort.InferenceSession.create(graph, options);
        const feeds = {
          x: new ort.Tensor("float32", Float32Array.from({ length: T * cfg.dModel }, (_, i) => Math.sin(i * 0.37)), [1, T, cfg.dModel]),
          previous: new ort.Tensor("float32", Float32Array.from({ length: cfg.heads * T * T }, (_, i) => Math.cos(i * 0.11)), [1, cfg.heads, T, T]),
          key_mask: new ort.Tensor("bool", new Uint8Array(T), [1, 1, 1, T]),
        };
        await session.run(feeds);
        const times: number[] = [];
        for (let k = 0; k < repeat; k++) {
          const t0 = performance.now();
          await session.run(feeds);
          times.push(performance.now() - t0);
        }
        let operators: Record<string, number> | undefined;
        if (v.profile) {
          session.endProfiling();
          const file = readdirSync(work).find((f) => f.startsWith(`${layer}-${T}`));
          if (file !== undefined) operators = operatorTimes(join(work, file), repeat + 1);
        }
        await session.release();
        times.sort((a, b) => a - b);
        rows.push({ layer, frames: T, ms: Number(times[times.length >> 1]!.toFixed(3)), ...(operators ? { operators } : {}) });
        if (!v.json) process.stderr.write(`bench lisa: ${layer} T'=${T}: ${rows[rows.length - 1]!.ms} ms\n`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ threads, repeat, rows }, null, 2)}\n`);
    return 0;
  }
  const lines = ["| T' | audio | full layer | LiSA layer | LiSA / full |", "| ---: | ---: | ---: | ---: | ---: |"];
  for (const T of lengths) {
    const full = rows.find((r) => r.layer === "full" && r.frames === T)!;
    const lisa = rows.find((r) => r.layer === "lisa" && r.frames === T)!;
    lines.push(`| ${T} | ${(T / 25).toFixed(0)} s | ${full.ms.toFixed(2)} ms | ${lisa.ms.toFixed(2)} ms | ${(lisa.ms / full.ms).toFixed(2)} |`);
  }
  for (const r of rows) if (r.operators) lines.push("", `${r.layer} T'=${r.frames}: ${Object.entries(r.operators).slice(0, 8).map(([k, ms]) => `${k} ${ms} ms`).join(", ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
