// `nast train`: train a CTC-NAST (+LiSA) model on a prepared data directory (src/train/trainer.ts).
import { booleanFlags, numberFlag, parseFlags, stringFlags } from "./args.ts";
import { UsageError } from "../util/errors.ts";
import { settingFlags, settingOptions, settingUsage } from "./train-setting-flags.ts";

const USAGE = `usage: nast train -c CONFIG|PRESET -d DATA_DIR -o EXP_DIR [options]

  Trains on DATA_DIR/train (written by nast prep), validates on DATA_DIR/dev, and writes
  EXP_DIR/checkpoints/ckpt-<step>.safetensors, EXP_DIR/train.log.jsonl (JSON lines: loss terms, lr,
  grad norm, frames/s, replaced-frame ratio, memory, infeasible count; dev BLEU) and EXP_DIR/config.json.
  Settings come from the defaults, then the config's "train" object, then these flags.

  -c, --config C         preset (tiny, small, base, repro; ar-tiny, ar-small: the autoregressive
                         counterparts, docs/model.md §10) or config JSON file
  -d, --data DIR         prepared data directory (spm.model, train/, dev/)
  -o, --out DIR          experiment directory
  --device D             cpu (default) or cuda[:N]
  --precision P          CUDA only: bf16 autocast (default), tf32 or fp32
  --resume               continue the run in EXP_DIR exactly where it stopped, with its checkpoint's config
                         (a -c that differs is ignored, with a warning); where EXP_DIR holds no checkpoint
                         yet (missing, empty, or a run stopped before its first one) start it from -c/--init;
                         any other EXP_DIR without checkpoints/latest.json is an error (a mistyped -o?)
  --max-seconds N        stop cleanly (validate, checkpoint) after N seconds of this invocation; not saved
                         with the run. A planned stop: exit status 0, and --resume continues the run.
                         SIGINT/SIGTERM also stop after the current update with a checkpoint, then exit
                         130/143 (the run is not finished; a second signal stops at once)
  --threads N            CPU threads of libtorch
  --init SOURCE          start from the weights of a trained model with a fresh optimizer and schedule
                         (fine-tuning, or continuing a run whose checkpoints are gone): a checkpoint, a
                         nast average output or a model package such as models/default; without -c its own
                         config is used, and a package's data must be prepared with its spm.model
  --init-encoder SOURCE  with -c AR_CONFIG (e.g. ar-small): start the autoregressive model's acoustic
                         encoder and source CTC from a CTC-NAST model with the same encoder (e.g.
                         models/default for ar-small), its decoder from random weights; fresh optimizer
  --retrofit-lisa CKPT   retro-fit LiSA: start from a trained model without LiSA (the config must have
                         LiSA layers), train only the LiSA parameters with the task loss + λ·KL
  --kl-weight X          λ of the retro-fit attention KL (default 1)
  --unfreeze-after N     retro-fit: train every parameter from update N on
  --no-progress          no progress line even on a terminal
  --no-prefetch          collate batches on the main thread, not ahead in a worker (same results)

  Data parallel (c10d: Gloo on cpu, NCCL on cuda; one process per GPU):
  --nproc N              run N ranks on this host, each its share of every update: the update is the one a
                         single process makes with --accum (accum x N); rank 0 validates, checkpoints and logs.
                         Without it, a process whose environment has WORLD_SIZE (torchrun's RANK, WORLD_SIZE,
                         LOCAL_RANK, MASTER_ADDR, MASTER_PORT) is that rank. With --device cuda each rank uses
                         cuda:LOCAL_RANK. When a rank fails, the others are stopped
  --dist-timeout S       forming the group and each collective fail after S seconds (default 1800: rank 0
                         validates alone while the others wait)
  --bucket-mb N          gradients are all-reduced in buckets of about N MB (default 4)

  Training settings (the same keys in the config's "train" object, e.g. "maxSteps": 1000, "curriculum": false):
${settingUsage()}`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return n;
}

/** The arguments of the ranks: the launcher's, less --nproc N (or --nproc=N). */
function withoutNproc(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--nproc") i++;
    else if (!args[i]!.startsWith("--nproc=")) out.push(args[i]!);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      data: { type: "string", short: "d" },
      out: { type: "string", short: "o" },
      device: { type: "string", default: "cpu" },
      precision: { type: "string", default: "bf16" },
      ...booleanFlags("resume", "no-progress", "no-prefetch"),
      ...settingOptions(),
      ...stringFlags("max-seconds", "threads", "retrofit-lisa", "init", "init-encoder", "kl-weight", "unfreeze-after"),
      ...stringFlags("nproc", "dist-timeout", "bucket-mb"),
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${USAGE}`);
  if (!values.data || !values.out) throw new UsageError(`-d DATA_DIR and -o EXP_DIR are required\n\n${USAGE}`);
  if (!values.config && !values.resume && !values.init && !values["init-encoder"]) {
    throw new UsageError(`-c CONFIG is required (a preset: tiny, small, base, repro; or a JSON file), or --init MODEL\n\n${USAGE}`);
  }
  const starts = (["init", "init-encoder", "retrofit-lisa"] as const).filter((k) => values[k]);
  if (starts.length > 1) throw new UsageError(`${starts.map((k) => `--${k}`).join(" and ")}: each names the starting weights; give one`);
  const device = values.device!;
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu or cuda[:N], got "${device}"`);
  const precision = values.precision!;
  if (precision !== "bf16" && precision !== "tf32" && precision !== "fp32") throw new UsageError(`--precision must be bf16, tf32 or fp32`);
  const threads = int("threads", values.threads);
  if (threads !== undefined && threads < 1) throw new UsageError("--threads must be at least 1");
  const maxSeconds = numberFlag(values["max-seconds"], "--max-seconds");
  if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new UsageError("--max-seconds must be a positive number of seconds");
  if ((values["kl-weight"] || values["unfreeze-after"]) && !values["retrofit-lisa"]) {
    throw new UsageError("--kl-weight and --unfreeze-after go with --retrofit-lisa CKPT");
  }

  const nproc = int("nproc", values.nproc);
  if (nproc !== undefined && nproc < 1) throw new UsageError("--nproc must be at least 1");
  const distTimeout = numberFlag(values["dist-timeout"], "--dist-timeout") ?? 1800;
  if (!(distTimeout > 0)) throw new UsageError("--dist-timeout must be a positive number of seconds");
  const bucketMb = numberFlag(values["bucket-mb"], "--bucket-mb") ?? 4;
  if (!(bucketMb > 0)) throw new UsageError("--bucket-mb must be a positive number");

  const flags = settingFlags(values);
  const { distEnv } = await import("../train/data-parallel.ts");
  const env = distEnv();
  if (nproc !== undefined && env === null) {
    const { launchRanks } = await import("../train/launcher.ts");
    return launchRanks({ args: withoutNproc(["train", ...argv]), nproc });
  }
  if (env !== null) (await import("../train/launcher.ts")).watchLauncher();
  // Loaded here, not at the top: the kernels are needed only once training really starts.
  const { train } = await import("../train/trainer.ts");
  const summary = await train({
    config: values.config ?? "",
    dataDir: values.data,
    expDir: values.out,
    device,
    resume: values.resume ?? false,
    threads: threads ?? null,
    maxSeconds: maxSeconds ?? null,
    init: values.init ?? values["init-encoder"] ?? null,
    initPart: values["init-encoder"] ? "encoder" : "model",
    precision,
    flags,
    retrofit: values["retrofit-lisa"]
      ? {
          from: values["retrofit-lisa"],
          klWeight: numberFlag(values["kl-weight"], "--kl-weight") ?? 1,
          unfreezeAfter: int("unfreeze-after", values["unfreeze-after"]) ?? null,
        }
      : null,
    ...(values["no-progress"] ? { progress: false } : {}),
    ...(values["no-prefetch"] ? { prefetch: false } : {}),
    dist: env === null ? null : { env, timeoutSeconds: distTimeout, bucketMb },
  });
  if (env !== null && env.rank !== 0) return summary.signal === "SIGINT" ? 130 : summary.signal === "SIGTERM" ? 143 : 0;
  process.stderr.write(
    `nast train: ${summary.stopReason}; ${summary.steps} updates, ${summary.epochs} epochs, loss ${summary.lastLoss?.toFixed(4) ?? "-"}, ` +
      `dev BLEU ${summary.lastBleu?.toFixed(2) ?? "-"} (best ${summary.bestBleu?.toFixed(2) ?? "-"}), ${summary.badSteps} skipped updates\n`,
  );
  // Stopped by a signal: checkpointed, but not finished; the shell's status for that signal (128 + its number)
  // tells a script (recipes/mustc/run.sh) not to go on. A --max-seconds slot is a planned stop: 0.
  if (summary.signal === "SIGINT") return 130;
  if (summary.signal === "SIGTERM") return 143;
  return 0;
}
