// What `nast train` is asked to do (src/cli/train.ts builds it) and what it reports back.
import type { DistEnv } from "./data-parallel.ts";
import type { TrainSettings } from "./settings.ts";

export interface RetrofitOptions {
  /** A trained checkpoint without LiSA whose weights start the LiSA model. */
  from: string;
  /** λ of KL(full ‖ LiSA) (docs/model.md §7.6: default 1). */
  klWeight: number;
  /** Train every parameter (not only LiSA's) from this update on; null: never. */
  unfreezeAfter: number | null;
}

export interface TrainOptions {
  /** Preset name or config JSON (ignored on --resume: the checkpoint's config is used). */
  config: string;
  dataDir: string;
  expDir: string;
  device: string;
  resume: boolean;
  threads: number | null;
  /** CUDA precision: bf16 autocast (default), TF32 matmuls, or plain fp32. CPU always runs fp32. */
  precision: "bf16" | "tf32" | "fp32";
  /** Command-line settings, applied over the config's "train" object (or the resumed run's settings). */
  flags: Partial<Record<keyof TrainSettings, unknown>>;
  retrofit: RetrofitOptions | null;
  /**
   * Start a new run from these weights (a checkpoint, an averaged file or a model package) with a fresh
   * optimizer and schedule; without a config, the model's own is used. Ignored when resuming.
   */
  init?: string | null;
  /**
   * "encoder": only the acoustic encoder comes from `init` (subsampler, Conformer layers, InterCTC/PAE and the
   * source CTC, by name and shape), the decoder of an autoregressive config starts from random weights; the
   * CTC-NAST model of the same preset size has that encoder. Default "model": every weight.
   */
  initPart?: "model" | "encoder";
  /** Progress line on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /**
   * Stop cleanly (validate, checkpoint, log "done") after this many seconds of this invocation: a slot on a
   * shared or leased machine that ends at a fixed time. Not a setting of the run: a resumed run may get another.
   */
  maxSeconds?: number | null;
  /** Collate the next micro-batches in a worker thread during each step (default true; same batches either way). */
  prefetch?: boolean;
  /** Data-parallel training: this process's rank and how the ranks meet; null or absent: one process. */
  dist?: DistOptions | null;
}

export interface DistOptions {
  env: DistEnv;
  /** Forming the group and each collective fail after this long (a rank that died or hangs). */
  timeoutSeconds: number;
  /** Gradient buckets of about this many MB, all-reduced together after backward. */
  bucketMb: number;
}

export interface TrainSummary {
  steps: number;
  epochs: number;
  badSteps: number;
  lastLoss: number | null;
  lastBleu: number | null;
  bestBleu: number | null;
  stopReason: string;
  /**
   * The signal (SIGINT, SIGTERM) that stopped the run after its checkpoint, or null when it stopped as planned
   * (--max-steps, --max-epochs, or a --max-seconds slot): `nast train` exits 128 + its number for a signal.
   */
  signal: NodeJS.Signals | null;
}
