// `nast bench lisa [--json]`: one self-attention layer of the small preset, full against LiSA, in each encoder
// (a Conformer layer, whose full form also scores relative positions, and a textual one), as exported
// (onnxruntime-node, random weights, batch 1; --int8 as the shipped package stores its linear layers) and, with
// --engines onnx,torch, as the eager forward runs it on
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
import { selfAttention, type SelfAttentionArgs } from "../model/attention.ts";
import { loadConfig, type NastConfig } from "../model/config.ts";
import type { StoredTensor } from "../export/checkpoint.ts";
import type { ModelContext } from "../model/context.ts";
import type { Value } from "../export/graph.ts";
import type { Tensor } from "../torch/index.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { parseFlags } from "./args.ts";

const USAGE = `usage: nast bench lisa [--json] [--lengths 125,250,500] [--threads 2] [--repeat 21] [--profile]
                       [--engines onnx,torch] [--encoders acoustic,textual] [--int8]

Times one self-attention layer of the small preset, full and LiSA (the head alignment of the previous
layer's logits plus the low-rank difference), in the acoustic encoder (Conformer layers 4 and 5: the full one
also scores relative positions, which a LiSA layer inherits) and in the textual one (layers 3 and 4), as
\`nast export\` writes them, in onnxruntime-node at batch 1, and as the eager forward runs on libtorch
(--engines torch), for each length T' (frames after the subsampler; 25 per second of audio). The median of
--repeat runs counts. --profile adds each onnxruntime layer's time per operator type.

options:
      --lengths LIST  T' values (default 125,250,500)
      --encoders LIST acoustic, textual (default both)
      --int8          onnxruntime: linear weights in int8, as \`nast export --int8\` (the shipped package)
      --engines LIST  onnx (onnxruntime-node), torch (libtorch, needs the kernels); default onnx
      --threads N     onnxruntime intra-op threads (default 2)
      --repeat N      runs per setting (default 21)
      --profile       per-operator times from onnxruntime's profiler
      --json          print JSON rows instead of a Markdown table
  -h, --help          this help
`;

const ENGINES = { onnx: "onnxruntime", torch: "libtorch" } as const;
type Engine = (typeof ENGINES)[keyof typeof ENGINES];

type Encoder = "acoustic" | "textual";
const ENCODERS: readonly Encoder[] = ["acoustic", "textual"];

interface Row {
  engine: Engine;
  encoder: Encoder;
  layer: "full" | "lisa";
  frames: number;
  ms: number;
  /** Milliseconds per operator type (with --profile), largest first. */
  operators?: Record<string, number>;
}

/** The layers of the small preset timed: the last full layer of each encoder and the LiSA layer after it (1-based). */
const LAYERS: Record<Encoder, { full: number; lisa: number }> = { acoustic: { full: 4, lisa: 5 }, textual: { full: 3, lisa: 4 } };

/** The arguments of selfAttention for one timed layer; `pos` is the Conformer's relative-position table. */
function layerArgs<T>(encoder: Encoder, layer: "full" | "lisa", x: T, keyMask: T, previous: T, pos: T): SelfAttentionArgs<T> {
  const n = LAYERS[encoder][layer];
  const lisa = layer === "lisa";
  return {
    prefix: `${encoder}.layers.${n - 1}.attn`,
    encoder,
    layer: n,
    x,
    keyMask,
    lisa,
    ...(lisa ? { previous } : {}),
    ...(encoder === "acoustic" ? { pos } : {}),
  };
}

/**
 * The ONNX graph of one self-attention layer: inputs x (1, T, d), previous (1, H, T, T), key_mask (1, 1, 1, T) and
 * pos (1, 2T−1, d); output (1, T, d). What the layer shares is no output: in the model it stays in onnxruntime's
 * memory for the next layer, and a graph output would add its allocation and its copy into JavaScript (which
 * made the full layer 1.4 ms slower at T' = 250). The textual layers do not read pos.
 */
function layerGraph(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, encoder: Encoder, layer: "full" | "lisa", int8: boolean): Uint8Array {
  const g = new GraphBuilder();
  const ops = new OnnxOps(g, state, { int8: new Set(int8 ? (["linear"] as const) : []) });
  const c: ModelContext<Value> = { ops, cfg, random: Math.random, record: false, teacher: false, records: [] };
  const x = g.input("x", "float32", [1, "T", cfg.dModel]);
  const previous = g.input("previous", "float32", [1, cfg.heads, "T", "T"]);
  const keyMask = g.input("key_mask", "bool", [1, 1, 1, "T"]);
  const pos = g.input("pos", "float32", [1, "P", cfg.dModel]);
  const { out } = selfAttention(c, layerArgs(encoder, layer, x, keyMask, previous, pos));
  g.output(out, "out");
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

/** The layer's inputs at length T, the same values for both engines and both layers. */
function layerInputs(cfg: NastConfig, T: number): { x: Float32Array; previous: Float32Array; pos: Float32Array } {
  return {
    x: Float32Array.from({ length: T * cfg.dModel }, (_, i) => Math.sin(i * 0.37)),
    previous: Float32Array.from({ length: cfg.heads * T * T }, (_, i) => Math.cos(i * 0.11)),
    pos: Float32Array.from({ length: (2 * T - 1) * cfg.dModel }, (_, i) => Math.sin(i * 0.013)),
  };
}

/** Timed calls per turn of medianMs. */
const TURN = 5;

/**
 * The medians of `repeat` timed calls of each of `calls`, in ms. The calls take turns of TURN timed runs, each turn
 * after an untimed one, so that the machine's changing speed weighs on full and LiSA alike and their ratio is
 * measured in one run; the untimed run lets the threads of the session that ran before settle (onnxruntime's spin
 * as they wait for work, as in \`nast translate\`).
 */
async function medianMs(repeat: number, calls: (() => Promise<unknown> | unknown)[]): Promise<number[]> {
  const times = calls.map((): number[] => []);
  for (let done = 0; done < repeat; done += TURN) {
    for (const [i, once] of calls.entries()) {
      await once();
      for (let k = done; k < Math.min(repeat, done + TURN); k++) {
        const t0 = performance.now();
        await once();
        times[i]!.push(performance.now() - t0);
      }
    }
  }
  return times.map((t) => Number(t.sort((a, b) => a - b)[t.length >> 1]!.toFixed(3)));
}

const KINDS = ["full", "lisa"] as const;

/** The libtorch rows: the same layers, weights and inputs through EagerOps, without autograd. */
async function torchRows(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, encoders: Encoder[], lengths: number[], threads: number, repeat: number): Promise<Row[]> {
  const torch = await import("../torch/index.ts");
  const { EagerOps } = await import("../eager/eager-ops.ts");
  torch.setNumThreads(threads);
  const params = new Map<string, Tensor>();
  for (const [name, t] of state) params.set(name, torch.keep(torch.Tensor.fromBytes(t.data, t.shape, t.dtype as "float32")));
  const ops = new EagerOps(params, false);
  const rows: Row[] = [];
  for (const encoder of encoders) {
    for (const T of lengths) {
      const input = layerInputs(cfg, T);
      const inputs = torch.keep([
        torch.Tensor.fromTypedArray(input.x, [1, T, cfg.dModel], "float32"),
        torch.Tensor.fromTypedArray(input.previous, [1, cfg.heads, T, T], "float32"),
        torch.Tensor.fromTypedArray(input.pos, [1, 2 * T - 1, cfg.dModel], "float32"),
        torch.Tensor.fromTypedArray(BigInt64Array.from([BigInt(T)]), [1], "int64"),
      ]) as [Tensor, Tensor, Tensor, Tensor];
      const [x, previous, pos, lengthsT] = inputs;
      const call = (layer: "full" | "lisa") => (): void =>
        torch.noGrad(() =>
          torch.tidy(() => {
            const c: ModelContext<Tensor> = { ops, cfg, random: Math.random, record: false, teacher: false, records: [] };
            const keyMask = ops.unsqueeze(ops.unsqueeze(ops.paddingMask(lengthsT, x, 1), 1), 1);
            selfAttention(c, layerArgs(encoder, layer, x, keyMask, previous, pos)).out.data(); // waits for the result, as onnxruntime's run does
          }),
        );
      const ms = await medianMs(repeat, KINDS.map(call));
      KINDS.forEach((layer, i) => rows.push({ engine: ENGINES.torch, encoder, layer, frames: T, ms: ms[i]! }));
      for (const t of inputs) t.dispose();
    }
  }
  for (const t of params.values()) t.dispose();
  return rows;
}

/** The onnxruntime rows: for each encoder and length, the full and the LiSA layer's sessions, run in turns. */
async function onnxRows(cfg: NastConfig, state: ReadonlyMap<string, StoredTensor>, encoders: Encoder[], lengths: number[], threads: number, repeat: number, int8: boolean, profileDir: string | undefined, log: (line: string) => void): Promise<Row[]> {
  const ort = await import("onnxruntime-node");
  const rows: Row[] = [];
  for (const encoder of encoders) {
    const graphs = KINDS.map((layer) => layerGraph(cfg, state, encoder, layer, int8));
    for (const T of lengths) {
      const input = layerInputs(cfg, T);
      const feeds = {
        x: new ort.Tensor("float32", input.x, [1, T, cfg.dModel]),
        previous: new ort.Tensor("float32", input.previous, [1, cfg.heads, T, T]),
        key_mask: new ort.Tensor("bool", new Uint8Array(T), [1, 1, 1, T]),
        pos: new ort.Tensor("float32", input.pos, [1, 2 * T - 1, cfg.dModel]),
      };
      const sessions: InferenceSession[] = [];
      for (const [i, layer] of KINDS.entries()) {
        const options: InferenceSession.SessionOptions = { graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1 };
        if (profileDir !== undefined) Object.assign(options, { enableProfiling: true, profileFilePrefix: join(profileDir, `${encoder}-${layer}-${T}`) });
        sessions.push(await ort.InferenceSession.create(graphs[i]!, options));
      }
      const ms = await medianMs(repeat, sessions.map((session) => () => session.run(feeds)));
      for (const [i, layer] of KINDS.entries()) {
        let operators: Record<string, number> | undefined;
        if (profileDir !== undefined) {
          sessions[i]!.endProfiling();
          const file = readdirSync(profileDir).find((f) => f.startsWith(`${encoder}-${layer}-${T}_`));
          if (file !== undefined) operators = operatorTimes(join(profileDir, file), repeat + 1);
        }
        await sessions[i]!.release();
        rows.push({ engine: ENGINES.onnx, encoder, layer, frames: T, ms: ms[i]!, ...(operators ? { operators } : {}) });
        log(`bench lisa: onnxruntime ${encoder} ${layer} T'=${T}: ${ms[i]} ms`);
      }
    }
  }
  return rows;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        json: { type: "boolean" },
        lengths: { type: "string" },
        threads: { type: "string" },
        repeat: { type: "string" },
        profile: { type: "boolean" },
        engines: { type: "string" },
        encoders: { type: "string" },
        int8: { type: "boolean" },
      },
    },
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
  const encoders = (v.encoders ?? ENCODERS.join(",")).split(",") as Encoder[];
  for (const e of encoders) if (!ENCODERS.includes(e)) throw new UsageError(`--encoders: unknown encoder '${e}' (use ${ENCODERS.join(", ")})\n\n${USAGE}`);
  const int8 = v.int8 === true;
  const cfg = loadConfig("small");
  const state = randomStateDict(cfg, 1);
  const work = mkdtempSync(join(tmpdir(), "nast-bench-lisa-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    if (engines.includes("onnx")) rows.push(...(await onnxRows(cfg, state, encoders, lengths, threads, repeat, int8, v.profile ? work : undefined, (line) => v.json || process.stderr.write(`${line}\n`))));
    if (engines.includes("torch")) {
      try {
        rows.push(...(await torchRows(cfg, state, encoders, lengths, threads, repeat)));
      } catch (err) {
        notes.push(`libtorch rows skipped: ${errorMessage(err)}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const note of notes) process.stderr.write(`bench lisa: ${note}\n`);
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ threads, repeat, int8, rows, ...(notes.length > 0 ? { notes } : {}) }, null, 2)}\n`);
    return 0;
  }
  const lines = ["| engine | encoder | T' | audio | full layer | LiSA layer | LiSA / full |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"];
  for (const engine of Object.values(ENGINES)) {
    for (const encoder of encoders) {
      for (const T of lengths) {
        const at = (layer: "full" | "lisa") => rows.find((r) => r.engine === engine && r.encoder === encoder && r.layer === layer && r.frames === T);
        const [full, lisa] = [at("full"), at("lisa")];
        if (full === undefined || lisa === undefined) continue;
        const name = engine === ENGINES.onnx && int8 ? `${engine} (int8)` : engine;
        lines.push(`| ${name} | ${encoder} | ${T} | ${(T / 25).toFixed(0)} s | ${full.ms.toFixed(2)} ms | ${lisa.ms.toFixed(2)} ms | ${(lisa.ms / full.ms).toFixed(2)} |`);
      }
    }
  }
  for (const r of rows) if (r.operators) lines.push("", `${r.encoder} ${r.layer} T'=${r.frames}: ${Object.entries(r.operators).slice(0, 8).map(([k, ms]) => `${k} ${ms} ms`).join(", ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
