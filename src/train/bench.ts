// `nast bench train`: the speed of full training updates per preset on a synthetic batch (update() of
// src/train/update.ts with the preset's training settings, as `nast train` runs it: schedules, curriculum pass
// 1 + Viterbi oracle + pass 2, backward, clip, Adam), LiSA's effect on encoder (forward) time and on Q/K
// parameters, and optionally the same model and batch in plain PyTorch (eval/pytorch/nast_step.py) in the same
// run, for the ratio our step time / PyTorch's.
//
// The batch (shared with nast_step.py): floor(maxFrames / uttFrames) utterances of uttFrames frames of
// N(0,1) features; source and target references of T'/5 tokens, ids uniform in 1..V−1.
//
// Data parallel (`--ddp`, `--nproc N`): the updates sum their gradients over a c10d process group, as `nast train`
// does. With one rank, updates with and without the group alternate, so that the wrapper's cost is measured
// on the same weights and clock; with several, each rank steps on its own copy of the batch.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadConfig, subsampledLength, withVocabSize, type NastConfig } from "../model/config.ts";
import { EagerOps } from "../eager/eager-ops.ts";
import { initParams } from "../eager/init.ts";
import { forward } from "../model/nast.ts";
import { countParams, paramSpecs } from "../model/params.ts";
import { packageRoot } from "../util/package-root.ts";
import { autocast, disposeAll, manualSeed, noGrad, numThreads, setTF32, synchronize, tidy } from "../torch/index.ts";
import { Rng } from "../util/rng.ts";
import type { HostBatch } from "./batch.ts";
import { resolveSettings } from "./settings.ts";
import { toDevice } from "./step.ts";
import { buildTrainee } from "./trainee.ts";
import { update, type GradientSync } from "./update.ts";

export interface BenchOptions {
  presets: string[];
  device: string;
  precision: "bf16" | "tf32" | "fp32";
  maxFrames: number;
  uttFrames: number;
  steps: number;
  warmup: number;
  /** False: time updates without the curriculum; true: with it where the preset's training settings have it. */
  curriculum: boolean;
  /** Vocabulary size (default: the preset's). */
  vocab: number | null;
  /** Python interpreter for the PyTorch comparison, or null to skip it. */
  python: string | null;
  /** Data parallel: the group's gradient sync and what to report of it; null: plain updates only. */
  ddp: { sync: GradientSync & { last: { commMs: number; buckets: number } }; backend: string; worldSize: number; bucketMb: number } | null;
}

export interface DdpBench {
  backend: string;
  worldSize: number;
  bucketMb: number;
  buckets: number;
  /** Median update time through the group, and the all-reduce part of it (the most that overlap could hide). */
  msPerStep: number;
  commMs: number;
  /** Frames per second over all the ranks. */
  framesPerSecond: number;
  /** msPerStep / the plain update's (world size 1 only: the cost of the wrapper). */
  ratio: number | null;
}

export interface PresetBench {
  preset: string;
  params: number;
  utterances: number;
  frames: number;
  msPerStep: number;
  framesPerSecond: number;
  loss: number;
  /** Forward (encoder, eval mode) time with the preset's LiSA layers and with LiSA switched off. */
  encoderMs: number;
  encoderMsNoLisa: number;
  /** Q/K (+ position) parameters of the self-attention layers, with the preset's LiSA and without. */
  qkParams: number;
  qkParamsNoLisa: number;
  lisaLayers: { acoustic: number[]; textual: number[] };
  pytorch: { msPerStep: number; framesPerSecond: number; torch: string; params: number } | null;
  /** Our step time / PyTorch's (the bar: ≤ 1.15 on the GPU). */
  ratio: number | null;
  ddp: DdpBench | null;
}

/** The synthetic batch of the module comment. */
export function syntheticBatch(cfg: NastConfig, maxFrames: number, uttFrames: number, seed: number): HostBatch {
  const rng = new Rng(seed);
  const B = Math.max(1, Math.floor(maxFrames / uttFrames));
  const dim = cfg.inputDim;
  const feats = new Float32Array(B * uttFrames * dim);
  for (let i = 0; i < feats.length; i++) feats[i] = rng.normal();
  const U = Math.max(1, Math.floor(subsampledLength(cfg, uttFrames) / 5));
  const ids = () => Array.from({ length: U }, () => 1 + rng.int(cfg.vocabSize - 1));
  return {
    indices: Array.from({ length: B }, (_, i) => i),
    feats,
    frames: uttFrames,
    dim,
    lengths: new Array<number>(B).fill(uttFrames),
    srcTargets: Array.from({ length: B }, ids),
    tgtTargets: Array.from({ length: B }, ids),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Parameters of the attention scores: full Q/K (+ rel-pos terms) and LiSA's low-rank Q'/K', u and head FFN. */
function qkParams(cfg: NastConfig): number {
  const specs = paramSpecs(cfg).filter((s) => /\.attn\.(q|k|pos|pos_bias_u|pos_bias_v|lisa)(\.|$)/.test(s.name));
  return countParams(specs);
}

function withoutLisa(cfg: NastConfig): NastConfig {
  return { ...cfg, lisa: { ...cfg.lisa, acoustic: [], textual: [] } };
}

/**
 * Median forward times (eval mode, no grad) of several models on the batch, measured interleaved (A, B, A,
 * B, ...) so that clock and allocator drift during the run affect each alike.
 */
function forwardTimes(cfgs: NastConfig[], batch: HostBatch, o: BenchOptions, bf16: boolean): number[] {
  const cuda = o.device.startsWith("cuda");
  const models = cfgs.map((cfg) => ({ cfg, params: initParams(cfg, { seed: 1, device: o.device }) }));
  const times = cfgs.map(() => [] as number[]);
  const b = toDevice(batch, o.device);
  try {
    for (let i = 0; i < o.warmup + o.steps; i++) {
      models.forEach(({ cfg, params }, k) => {
        const ops = new EagerOps(params, false);
        const t0 = performance.now();
        noGrad(() =>
          tidy(() => {
            const run = () => forward(ops, cfg, b.feats, b.lengths).tgtLogits;
            return bf16 ? autocast(run, "bfloat16") : run();
          }).dispose(),
        );
        if (cuda) synchronize();
        if (i >= o.warmup) times[k]!.push(performance.now() - t0);
      });
    }
  } finally {
    disposeAll(b);
    for (const m of models) disposeAll(m.params);
  }
  return times.map(median);
}

function pytorchStep(preset: string, cfg: NastConfig, o: BenchOptions): PresetBench["pytorch"] {
  if (o.python === null) return null;
  const script = join(packageRoot(), "eval", "pytorch", "nast_step.py");
  const args = [
    script, "--config", preset, "--vocab", String(cfg.vocabSize), "--device", o.device, "--max-frames", String(o.maxFrames),
    "--utt-frames", String(o.uttFrames), "--steps", String(o.steps), "--warmup", String(o.warmup), "--json",
    "--precision", o.device.startsWith("cuda") ? o.precision : "fp32", "--threads", String(numThreads()),
    ...(o.curriculum ? [] : ["--no-curriculum"]),
  ];
  const r = spawnSync(o.python, args, { encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${o.python} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error?.message}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as { msPerStep: number; framesPerSecond: number; torch: string; params: number };
  return { msPerStep: out.msPerStep, framesPerSecond: out.framesPerSecond, torch: out.torch, params: out.params };
}

export async function benchPreset(preset: string, o: BenchOptions): Promise<PresetBench> {
  const base = loadConfig(preset);
  const cfg = o.vocab === null ? base : withVocabSize(base, o.vocab);
  const cuda = o.device.startsWith("cuda");
  if (cuda) setTF32(o.precision === "tf32");
  const bf16 = cuda && o.precision === "bf16";
  const batch = syntheticBatch(cfg, o.maxFrames, o.uttFrames, 1);
  // The preset's own training settings, so that the update timed is the one `nast train` runs.
  const settings = resolveSettings(cfg, o.curriculum ? {} : { curriculum: false }, preset);
  const trainee = buildTrainee(cfg, initParams(cfg, { seed: 1, device: o.device }), settings, null, 0);
  const world = o.ddp?.worldSize ?? 1;
  const normalizer = Math.max(1, batch.tgtTargets.reduce((n, t) => n + t.length, 0)) * world;
  // Plain updates, updates through the group, or both alternating (one rank: the wrapper's cost).
  const modes = o.ddp === null ? [null] : world === 1 ? [null, o.ddp.sync] : [o.ddp.sync];
  const times = modes.map(() => [] as number[]);
  const comm: number[] = [];
  let loss = Number.NaN;
  try {
    for (let i = 0; i < o.warmup + o.steps; i++) {
      for (const [k, sync] of modes.entries()) {
        const rng = new Rng(i);
        manualSeed(i);
        const t0 = performance.now();
        const u = await update(trainee, settings, { step: i + 1, streamOf: () => rng, device: o.device, bf16, klWeight: null, micro: 1, take: () => batch, normalizer, sync });
        if (i >= o.warmup) times[k]!.push(performance.now() - t0);
        if (i >= o.warmup && sync !== null) comm.push(o.ddp!.sync.last.commMs);
        loss = u.loss;
      }
    }
  } finally {
    trainee.opt.dispose();
    disposeAll(trainee.params);
  }
  const ms = median(times[0]!);
  const frames = batch.lengths.reduce((a, b) => a + b, 0);
  const ddpMs = median(times.at(-1)!);
  const ddp: DdpBench | null = o.ddp === null ? null : {
    backend: o.ddp.backend,
    worldSize: world,
    bucketMb: o.ddp.bucketMb,
    buckets: o.ddp.sync.last.buckets,
    msPerStep: ddpMs,
    commMs: median(comm),
    framesPerSecond: (world * frames) / (ddpMs / 1000),
    ratio: world === 1 ? ddpMs / ms : null,
  };
  const noLisa = withoutLisa(cfg);
  const hasLisa = cfg.lisa.acoustic.length + cfg.lisa.textual.length > 0;
  const [encoderMs, encoderMsNoLisa] = hasLisa ? forwardTimes([cfg, noLisa], batch, o, bf16) : [forwardTimes([cfg], batch, o, bf16)[0]!, Number.NaN];
  const pytorch = pytorchStep(preset, cfg, o);
  return {
    preset,
    params: countParams(paramSpecs(cfg)),
    utterances: batch.indices.length,
    frames,
    msPerStep: ms,
    framesPerSecond: frames / (ms / 1000),
    loss,
    encoderMs: encoderMs!,
    encoderMsNoLisa: hasLisa ? encoderMsNoLisa! : encoderMs!,
    qkParams: qkParams(cfg),
    qkParamsNoLisa: qkParams(noLisa),
    lisaLayers: { acoustic: cfg.lisa.acoustic, textual: cfg.lisa.textual },
    pytorch,
    ratio: pytorch ? ms / pytorch.msPerStep : null,
    ddp,
  };
}
