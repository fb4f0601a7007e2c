// `nast bench train`: ms/step and frames/s of full training updates per preset on a synthetic batch, LiSA's
// effect on encoder time and Q/K parameters, and (--pytorch) the same step in plain PyTorch for the ratio.
import { UsageError } from "../util/errors.ts";
import { booleanFlags, parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast bench train [--json] [--device cpu|cuda] [--presets tiny,small] [options]

  Times full training updates, the ones nast train runs with the preset's training settings (schedules,
  curriculum pass 1 + Viterbi + pass 2, backward, clip, Adam), on a synthetic batch of --max-frames
  frames in utterances of --utt-frames frames, per preset; then the forward time with and without the
  preset's LiSA layers and their Q/K parameter counts.

  --device D          cpu (default) or cuda[:N]
  --presets LIST      comma-separated presets or config files (default: tiny,small)
  --max-frames N      frames per batch (default: 4800 on cpu, 40000 on cuda)
  --utt-frames N      frames per utterance (default 600 = 6 s)
  --steps N           timed updates (default: 3 on cpu, 20 on cuda); the median is reported
  --warmup N          untimed updates first (default: 1 on cpu, 5 on cuda)
  --precision P       cuda: bf16 (default), tf32 or fp32
  --vocab N           vocabulary size (default: the preset's)
  --no-curriculum     time updates without the curriculum's first pass
  --pytorch [PYTHON]  also run eval/pytorch/nast_step.py with PYTHON (default python3) and report the ratio
  --threads N         CPU threads of libtorch
  --ddp               also time the updates through a c10d group of one rank (NCCL on cuda, Gloo on cpu),
                      alternating with plain updates: the data-parallel wrapper's cost (its ratio)
  --nproc N           N ranks on this host (as nast train --nproc), each stepping on its own copy of the
                      batch through the group; rank 0 reports (per-rank ms/step, frames/s of all ranks)
  --bucket-mb N       gradient buckets of about N MB (default 4)
  --json              one JSON object per preset (an array) instead of a table
`;

export async function run(argv: string[]): Promise<number> {
  // `--pytorch` may stand alone or take an interpreter: normalise to --pytorch=PATH first.
  const args = argv.flatMap((a, i) =>
    a === "--pytorch" && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("-")) ? ["--pytorch=python3"] : [a],
  );
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    options: {
      ...booleanFlags("json", "no-curriculum", "ddp"),
      device: { type: "string", default: "cpu" },
      presets: { type: "string", default: "tiny,small" },
      ...stringFlags("max-frames", "steps", "warmup", "vocab", "pytorch", "threads", "nproc", "bucket-mb"),
      "utt-frames": { type: "string", default: "600" },
      precision: { type: "string", default: "bf16" },
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${USAGE}`);
  const device = values.device!;
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu or cuda[:N]`);
  const cuda = device.startsWith("cuda");
  const int = (name: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
  const precision = values.precision!;
  if (precision !== "bf16" && precision !== "tf32" && precision !== "fp32") throw new UsageError("--precision must be bf16, tf32 or fp32");
  const bucketMb = values["bucket-mb"] === undefined ? 4 : Number(values["bucket-mb"]);
  if (!(bucketMb > 0)) throw new UsageError(`--bucket-mb must be a positive number, got "${values["bucket-mb"]}"`);
  const { distEnv, joinDataParallel } = await import("../train/data-parallel.ts");
  const { freePort, launchRanks, watchLauncher } = await import("../train/launcher.ts");
  let env = distEnv();
  if (values.nproc !== undefined && env === null) {
    const nproc = int("nproc", values.nproc, 1);
    if (nproc < 1) throw new UsageError("--nproc must be at least 1");
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === "--nproc") i++;
      else if (!argv[i]!.startsWith("--nproc=")) rest.push(argv[i]!);
    }
    return launchRanks({ args: ["bench", "train", ...rest], nproc });
  }
  if (env !== null) watchLauncher();
  else if (values.ddp) env = { rank: 0, worldSize: 1, localRank: 0, masterAddr: "127.0.0.1", masterPort: await freePort() };
  const { benchPreset } = await import("../train/bench.ts");
  const { setNumThreads, torchVersion, numThreads } = await import("../torch/index.ts");
  if (values.threads !== undefined) setNumThreads(int("threads", values.threads, 1));
  const rankDevice = env !== null && device === "cuda" ? `cuda:${env.localRank}` : device;
  const dp = env === null ? null : joinDataParallel(env, { device: rankDevice, timeoutSeconds: 600, bucketMb });
  const opts = {
    presets: values.presets!.split(",").map((s) => s.trim()).filter(Boolean),
    device: rankDevice,
    precision: precision as "bf16" | "tf32" | "fp32",
    maxFrames: int("max-frames", values["max-frames"], cuda ? 40000 : 4800),
    uttFrames: int("utt-frames", values["utt-frames"], 600),
    steps: Math.max(1, int("steps", values.steps, cuda ? 20 : 3)),
    warmup: int("warmup", values.warmup, cuda ? 5 : 1),
    curriculum: !values["no-curriculum"],
    vocab: values.vocab === undefined ? null : int("vocab", values.vocab, 0),
    python: values.pytorch ?? null,
    ddp: dp === null ? null : { sync: dp.sync, backend: dp.group.backend, worldSize: dp.worldSize, bucketMb },
  };
  const quiet = dp !== null && dp.rank !== 0;
  const results = [];
  for (const preset of opts.presets) {
    const r = await benchPreset(preset, opts);
    results.push(r);
    if (!values.json && !quiet) {
      const f = (x: number, d = 1) => x.toFixed(d);
      process.stdout.write(
        `${r.preset}: ${f(r.params / 1e6, 2)}M params, ${r.utterances}x${opts.uttFrames} frames on ${device}` +
          `${cuda ? ` (${precision})` : ` (${numThreads()} threads)`}, curriculum ${opts.curriculum ? "on" : "off"}: ` +
          `${f(r.msPerStep)} ms/step, ${f(r.framesPerSecond / 1000, 2)}k frames/s` +
          (r.pytorch ? `; PyTorch ${r.pytorch.torch}: ${f(r.pytorch.msPerStep)} ms/step, ratio ${f(r.ratio!, 3)}` : "") +
          `\n  LiSA (acoustic ${r.lisaLayers.acoustic.join(",") || "-"}; textual ${r.lisaLayers.textual.join(",") || "-"}): ` +
          `forward ${f(r.encoderMs)} ms vs ${f(r.encoderMsNoLisa)} ms without (${f((r.encoderMs / r.encoderMsNoLisa - 1) * 100)}%), ` +
          `Q/K params ${r.qkParams} vs ${r.qkParamsNoLisa} (${f(r.qkParamsNoLisa / Math.max(1, r.qkParams), 2)}x fewer)\n` +
          (r.ddp
            ? `  data parallel (${r.ddp.backend}, ${r.ddp.worldSize} rank(s), ${r.ddp.buckets} bucket(s) of <= ${r.ddp.bucketMb} MB): ${f(r.ddp.msPerStep)} ms/step, ` +
              `all-reduce ${f(r.ddp.commMs, 2)} ms, ${f(r.ddp.framesPerSecond / 1000, 2)}k frames/s over all ranks` +
              (r.ddp.ratio !== null ? `; vs plain ${f(r.msPerStep)} ms/step: ratio ${f(r.ddp.ratio, 3)}` : "") + "\n"
            : ""),
      );
    }
  }
  if (values.json && !quiet) process.stdout.write(JSON.stringify({ ...opts, ddp: opts.ddp && { backend: opts.ddp.backend, worldSize: opts.ddp.worldSize, bucketMb }, torch: torchVersion(), threads: numThreads(), results }, null, 2) + "\n");
  return 0;
}
