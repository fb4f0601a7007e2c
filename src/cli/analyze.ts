// `nast analyze attention`: LiSA's motivating analysis on a trained model (docs/model.md §7.8): the per-head
// similarity of attention between adjacent layers, as the heads are numbered and after pairing them up
// (Hungarian), averaged over the valid queries of some utterances. Writes OUT_DIR/attention-similarity.json
// and OUT_DIR/attention-similarity.png.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeAudio } from "../audio/decode.ts";
import { fbank } from "../audio/fbank.ts";
import { utteranceCmvn } from "../audio/cmvn.ts";
import { openFeatureStore } from "../data/feature-store.ts";
import { renderSimilarityHeatmap } from "../eager/analysis/heatmap.ts";
import { SimilarityAccumulator, headSimilaritySums, type SimilarityMetric } from "../eager/analysis/similarity.ts";
import { EagerOps } from "../eager/eager-ops.ts";
import { loadModel } from "../eager/load.ts";
import { nastOnly } from "../model/config.ts";
import { forward } from "../model/nast.ts";
import { isLisaLayer } from "../model/params.ts";
import { noGrad, setNumThreads, tensor, tidy } from "../torch/index.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast analyze attention -c CKPT (--audio FILE... | --data DATA_DIR [--split dev] [--n 32]) -o OUT_DIR
                             [--metric js|cosine] [--max-seconds 30] [--device cpu|cuda] [--threads N]

  Per-head similarity of attention between adjacent layers of a trained model, before and after head
  alignment (the best one-to-one pairing of heads, Hungarian algorithm), averaged over queries and utterances.
  Inputs: audio files (any format ffmpeg reads; only the first --max-seconds of each), or the first --n
  utterances of a \`nast prep\` split. Metric: js = 1 − Jensen-Shannon divergence (base 2) between attention
  rows (default), cosine = cosine similarity of the rows.
  Writes OUT_DIR/attention-similarity.json and OUT_DIR/attention-similarity.png.
`;

interface Utterance {
  name: string;
  frames: number;
  /** CMVN-normalised fbank, frames × 80. */
  feats: Float32Array;
}

/** The utterances to analyse: the first n of DATA_DIR/<split>, or each audio file (a bad file is reported and counted). */
async function readUtterances(opts: { data?: string; split: string; n: number; audio: string[]; maxSeconds: number }): Promise<{ utterances: Utterance[]; failed: number }> {
  let failed = 0;
  const utterances: Utterance[] = [];
  if (opts.data !== undefined) {
    const store = openFeatureStore(join(opts.data, opts.split));
    try {
      for (let i = 0; i < Math.min(opts.n, store.size); i++) {
        const item = store.item(i);
        utterances.push({ name: item.id, frames: item.frames, feats: utteranceCmvn(Float32Array.from(item.feats), item.frames, 80) });
      }
    } finally {
      store.close();
    }
  } else {
    for (const file of opts.audio) {
      try {
        const decoded = await decodeAudio(file, { sampleRate: 16000 });
        const samples = decoded.samples.subarray(0, Math.floor(opts.maxSeconds * 16000));
        const fb = fbank(samples, 16000);
        if (fb.frames < 1) throw new Error("too short for one feature frame");
        utterances.push({ name: file, frames: fb.frames, feats: utteranceCmvn(fb.data, fb.frames, fb.dim) });
      } catch (err) {
        failed++;
        const msg = errorMessage(err);
        process.stderr.write(`nast analyze: ${msg.startsWith(file) ? msg : `${file}: ${msg}`}\n`);
      }
    }
  }
  return { utterances, failed };
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "attention") throw new UsageError(`unknown analysis '${sub}' (available: attention)\n\n${USAGE}`);
  const parsed = parseFlags({
    args: rest,
    allowPositionals: true,
    options: {
      checkpoint: { type: "string", short: "c" },
      audio: { type: "string", multiple: true },
      ...stringFlags("data", "threads"),
      split: { type: "string", default: "dev" },
      n: { type: "string", default: "32" },
      output: { type: "string", short: "o" },
      metric: { type: "string", default: "js" },
      "max-seconds": { type: "string", default: "30" },
      device: { type: "string", default: "cpu" },
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (!values.checkpoint) throw new UsageError(`-c CKPT is required\n\n${USAGE}`);
  if (!values.output) throw new UsageError(`-o OUT_DIR is required\n\n${USAGE}`);
  // Files after --audio a.wav may continue as plain arguments: --audio a.wav b.wav.
  const audio = [...(values.audio ?? []), ...positionals];
  if (positionals.length > 0 && values.audio === undefined) throw new UsageError(`unexpected arguments ${positionals.join(" ")}\n\n${USAGE}`);
  if ((audio.length > 0) === (values.data !== undefined)) throw new UsageError(`give either --audio FILE... or --data DATA_DIR\n\n${USAGE}`);
  const metric = values.metric as SimilarityMetric;
  if (metric !== "js" && metric !== "cosine") throw new UsageError(`--metric must be js or cosine, not '${values.metric}'`);
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer, not '${values.n}'`);
  const maxSeconds = Number(values["max-seconds"]);
  if (!(maxSeconds > 0)) throw new UsageError(`--max-seconds must be a positive number, not '${values["max-seconds"]}'`);
  if (values.threads !== undefined) {
    const t = Number(values.threads);
    if (!Number.isInteger(t) || t < 1) throw new UsageError(`--threads must be a positive integer, not '${values.threads}'`);
    setNumThreads(t);
  }

  const model = loadModel(values.checkpoint, values.device);
  const cfg = nastOnly(model.cfg, model.path, "nast analyze attention");
  const { utterances, failed } = await readUtterances({ data: values.data, split: values.split, n, audio, maxSeconds });
  if (utterances.length === 0) {
    process.stderr.write("nast analyze: no utterance to analyse\n");
    return 1;
  }

  const ops = new EagerOps(model.params, false);
  const acc = new SimilarityAccumulator(cfg.heads);
  const progress = new Progress({ total: utterances.length, label: "attention", unit: " utt" });
  for (const u of utterances) {
    noGrad(() =>
      tidy(() => {
        const feats = tensor(u.feats, { shape: [1, u.frames, 80], device: values.device });
        const lengths = tensor(new BigInt64Array([BigInt(u.frames)]), { device: values.device });
        const out = forward(ops, cfg, feats, lengths, { attention: true });
        const records = out.attention ?? [];
        const queries = out.outLengths.toArray()[0] as number;
        for (let k = 1; k < records.length; k++) {
          const lo = records[k - 1]!;
          const hi = records[k]!;
          if (lo.encoder !== hi.encoder) continue;
          const sums = headSimilaritySums(lo.probs.squeeze(0), hi.probs.squeeze(0), metric);
          acc.add(lo.encoder, lo.layer, isLisaLayer(cfg, hi.encoder, hi.layer - 1), sums, queries);
        }
      }),
    );
    progress.tick();
  }
  progress.finish();

  const pairs = acc.result();
  mkdirSync(values.output, { recursive: true });
  const report = {
    checkpoint: model.path,
    metric,
    heads: cfg.heads,
    utterances: utterances.map((u) => u.name),
    failedInputs: failed,
    pairs,
  };
  const jsonPath = join(values.output, "attention-similarity.json");
  const pngPath = join(values.output, "attention-similarity.png");
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + "\n");
  const title = `attention similarity (${metric}), ${utterances.length} utt`;
  writeFileSync(pngPath, renderSimilarityHeatmap(pairs, cfg.heads, title));
  for (const p of pairs) {
    process.stdout.write(`${p.encoder.padEnd(8)} ${String(p.from).padStart(2)}-${String(p.to).padEnd(2)}${p.toIsLisa ? " (LiSA)" : "       "}  direct ${p.direct.toFixed(3)}  aligned ${p.aligned.toFixed(3)}\n`);
  }
  process.stderr.write(`nast analyze: wrote ${jsonPath} and ${pngPath}\n`);
  return failed > 0 ? 1 : 0;
}
