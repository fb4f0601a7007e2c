// `nast bench lisa [--json]`: one self-attention layer of the small preset, full against LiSA, as exported
// (onnxruntime-node, random weights, batch 1) and, with --engines onnx,torch, as the eager forward runs it on
// libtorch (src/eager, no autograd), at the sequence lengths nast runs (T' = 125-500: 5-20 s of audio after
// the 4x subsampler). With --profile, onnxruntime's own per-node trace is summed by operator type, so the time
// a LiSA layer adds or saves is seen operator by operator (the LiSA paper, Mu et al., TACL 2026, measures its
// gain on LLM-sized layers; this checks it at ours). The libtorch rows need the kernels (npm run build:kernels).
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
import type { Tensor } from "../torch/index.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { parseFlags } from "./args.ts";

const USAGE = `usage: nast bench lisa [--json] [--lengths 125,250,500] [--threads 2] [--repeat 21] [--profile]
                       [--engines onnx,torch]

Times one textual self-attention layer of the small preset, full (layer 3) and LiSA (layer 4: the head
alignment of the previous layer's logits plus the low-rank difference), as \`nast export\` writes them,
in onnxruntime-node at batch 1, and as the eager forward runs on libtorch (--engines torch), for each
length T' (frames after the subsampler; 25 per second of audio). The median of --repeat runs counts.
--profile adds each onnxruntime layer's time per operator type.

options:
      --lengths LIST  T' values (default 125,250,500)
      --engines LIST  onnx (onnxruntime-node), torch (libtorch, needs the kernels); default onnx
      --threads N     onnxruntime intra-op threads (default 2)
      --repeat N      runs per setting (default 21)
      --profile       per-operator times from onnxruntime's profiler
      --json          print JSON rows instead of a Markdown table
  -h, --help          this help
`;

const ENGINES = { onnx: "onnxruntime", torch: "libtorch" } as const;
type Engine = (typeof ENGINES)[keyof typeof ENGINES];

interface Row {
  engine: Engine;
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

/** The layer's inputs at length T, the same values for both engines. */
function layerInputs(cfg: NastConfig, T: number): { x: Float32Array; previous: Float32Array } {
  return {
    x: Float32Array.from({ length: T * cfg.dModel }, (_, i) => Math.sin(i * 0.37)),
    previous: Float32Array.from({ length: cfg.heads * T * T }, (_, i) => Math.cos(i * 0.11)),
  };
}

/** The median of `repeat` timed calls of `once` (after one untimed call), in ms. */
async function medianMs(repeat: number, once: () => Promise<unknown> | unknown): Promise<number> {
  await once();
  const times: number[] = [];
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Number(times[times.length >> 1]!.toFixed(3));
}

/** The libtorch rows: the same layer, weights and inputs through EagerOps, without autograd. */
async function torchRows(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, lengths: number[], threads: number, repeat: number): Promise<Row[]> {
  const torch = await import("../torch/index.ts");
  const { EagerOps } = await import("../eager/eager-ops.ts");
  torch.setNumThreads(threads);
  const params = new Map<string, Tensor>();
  for (const [name, t] of state) params.set(name, torch.keep(torch.Tensor.fromBytes(t.data, t.shape, t.dtype as "float32")));
  const ops = new EagerOps(params, false);
  const rows: Row[] = [];
  for (const layer of ["full", "lisa"] as const) {
    const n = layer === "lisa" ? 4 : 3;
    for (const T of lengths) {
      const input = layerInputs(cfg, T);
      const [x, previous, lengthsT] = torch.keep([
        torch.Tensor.fromTypedArray(input.x, [1, T, cfg.dModel], "float32"),
        torch.Tensor.fromTypedArray(input.previous, [1, cfg.heads, T, T], "float32"),
        torch.Tensor.fromTypedArray(BigInt64Array.from([BigInt(T)]), [1], "int64"),
      ]) as [Tensor, Tensor, Tensor];
      const once = (): void =>
        torch.noGrad(() =>
          torch.tidy(() => {
            const c: ModelContext<Tensor> = { ops, cfg, random: Math.random, record: false, teacher: false, records: [] };
            const keyMask = ops.unsqueeze(ops.unsqueeze(ops.paddingMask(lengthsT, x, 1), 1), 1);
            const { out } = selfAttention(c, { prefix: `textual.layers.${n - 1}.attn`, encoder: "textual", layer: n, x, keyMask, lisa: layer === "lisa", ...(layer === "lisa" ? { previous } : {}) });
            out.data(); // waits for the result, as onnxruntime's run does
          }),
        );
      rows.push({ engine: ENGINES.torch, layer, frames: T, ms: await medianMs(repeat, once) });
      for (const t of [x, previous, lengthsT]) t.dispose();
    }
  }
  for (const t of params.values()) t.dispose();
  return rows;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    { args: argv, options: { json: { type: "boolean" }, lengths: { type: "string" }, threads: { type: "string" }, repeat: { type: "string" }, profile: { type: "boolean" }, engines: { type: "string" } } },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const lengths = (v.lengths ?? "125,250,500").split(",").map(Number);
  const threads = Number(v.threads ?? 2);
  const repeat = Number(v.repeat ?? 21);
  if ([...lengths, threads, repeat].some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`bad --lengths, --threads or --repeat\n\n${USAGE}`);
  const engines = (v.engines ?? "onnx").split(",");
  for (const e of engines) if (!(e in ENGINES)) throw new UsageError(`--engines: unknown engine '${e}' (use ${Object.keys(ENGINES).join(", ")})\n\n${USAGE}`);
  const cfg = loadConfig("small");
  const state = randomStateDict(cfg, 1);
  const work = mkdtempSync(join(tmpdir(), "nast-bench-lisa-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const ort = engines.includes("onnx") ? await import("onnxruntime-node") : undefined;
    for (const layer of ort === undefined ? [] : (["full", "lisa"] as const)) {
      const graph = layerGraph(cfg, state, layer === "lisa");
      for (const T of lengths) {
        const options: InferenceSession.SessionOptions = { graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1 };
        if (v.profile) Object.assign(options, { enableProfiling: true, profileFilePrefix: join(work, `${layer}-${T}`) });
        const session = await ort!.InferenceSession.create(graph, options);
        const input = layerInputs(cfg, T);
        const feeds = {
          x: new ort!.Tensor("float32", input.x, [1, T, cfg.dModel]),
          previous: new ort!.Tensor("float32", input.previous, [1, cfg.heads, T, T]),
          key_mask: new ort!.Tensor("bool", new Uint8Array(T), [1, 1, 1, T]),
        };
        const ms = await medianMs(repeat, () => session.run(feeds));
        let operators: Record<string, number> | undefined;
        if (v.profile) {
          session.endProfiling();
          const file = readdirSync(work).find((f) => f.startsWith(`${layer}-${T}`));
          if (file !== undefined) operators = operatorTimes(join(work, file), repeat + 1);
        }
        await session.release();
        rows.push({ engine: ENGINES.onnx, layer, frames: T, ms, ...(operators ? { operators } : {}) });
        if (!v.json) process.stderr.write(`bench lisa: onnxruntime ${layer} T'=${T}: ${ms} ms\n`);
      }
    }
    if (engines.includes("torch")) {
      try {
        rows.push(...(await torchRows(cfg, state, lengths, threads, repeat)));
      } catch (err) {
        notes.push(`libtorch rows skipped: ${errorMessage(err)}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const note of notes) process.stderr.write(`bench lisa: ${note}\n`);
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ threads, repeat, rows, ...(notes.length > 0 ? { notes } : {}) }, null, 2)}\n`);
    return 0;
  }
  const lines = ["| engine | T' | audio | full layer | LiSA layer | LiSA / full |", "| --- | ---: | ---: | ---: | ---: | ---: |"];
  for (const engine of Object.values(ENGINES)) {
    for (const T of lengths) {
      const full = rows.find((r) => r.engine === engine && r.layer === "full" && r.frames === T);
      const lisa = rows.find((r) => r.engine === engine && r.layer === "lisa" && r.frames === T);
      if (full === undefined || lisa === undefined) continue;
      lines.push(`| ${engine} | ${T} | ${(T / 25).toFixed(0)} s | ${full.ms.toFixed(2)} ms | ${lisa.ms.toFixed(2)} ms | ${(lisa.ms / full.ms).toFixed(2)} |`);
    }
  }
  for (const r of rows) if (r.operators) lines.push("", `${r.layer} T'=${r.frames}: ${Object.entries(r.operators).slice(0, 8).map(([k, ms]) => `${k} ${ms} ms`).join(", ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
