// `nast bench infer [--json]`: speed of the whole translate pipeline (decode audio → segment → fbank+CMVN →
// network → CTC decoding) per model preset, with onnxruntime and with libtorch running the same weights on
// the same audio, at batch 1 and batched. Random-init weights (speed does not depend on training) and a
// synthetic, speech-like recording with pauses (noise bursts shaped like syllables), so that the benchmark
// needs nothing but the repository. The libtorch engine (src/torch) is loaded only here, never by translate.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PCM16_MONO, wavHeader } from "../audio/wav-header.ts";
import { frameSeconds, buildOnnxModel } from "../export/exporter.ts";
import { ProtoWriter } from "../formats/protobuf.ts";
import { randomStateDict } from "../export/random-state.ts";
import type { StoredTensor } from "../export/checkpoint.ts";
import type { ModelPackage } from "../formats/model-package.ts";
import { NastSession } from "../infer/session.ts";
import { type BatchOutput, type BatchRunner, type Features, type OutputReads } from "../infer/batch-runner.ts";
import { Translator } from "../infer/translator.ts";
import { loadConfig, PRESETS, type NastConfig } from "../model/config.ts";
import { SentencePiece } from "../text/sentencepiece.ts";
import { UsageError, errorMessage } from "../util/errors.ts";
import { Rng } from "../util/rng.ts";
import type { Tensor } from "../torch/index.ts";
import { parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast bench infer [--json] [--presets tiny,small,base] [--seconds 60] [--threads N] [--batch 8]
                        [--engines onnx,onnx-int8,torch] [--repeat 2]

Real-time factor (processing time / audio time) and segments per second of \`nast translate\`'s pipeline for
each preset, with onnxruntime (float32 weights, and int8 as \`nast export --int8\` writes them) and with
libtorch (same random-init weights, same audio), at batch 1 and
batched, and the share of the time spent decoding audio, computing features, in the network and in CTC
decoding. The libtorch rows need the kernels (npm run build:kernels).

options:
      --presets LIST   presets or config files to measure (default tiny,small,base; presets:
                       ${Object.keys(PRESETS).join(", ")})
      --seconds S      length of the synthetic recording (default 60)
      --threads N      threads for both engines (default 2)
      --batch N        the batched setting's segments per batch (default 8)
      --engines LIST   onnx, onnx-int8, torch (default onnx,torch)
      --repeat N       runs per setting; the fastest counts (default 2)
      --json           print JSON rows instead of a Markdown table
  -h, --help           this help
`;

/** A SentencePiece model with `size` pieces (fairseq id layout), enough to decode ids to text. */
function syntheticSentencePiece(size: number): SentencePiece {
  const model = new ProtoWriter();
  const piece = (text: string, type: number, score: number): void => {
    model.message(1, new ProtoWriter().string(1, text).float(2, score).int(3, type));
  };
  piece("<s>", 3, 0);
  piece("<pad>", 3, 0);
  piece("</s>", 3, 0);
  piece("<unk>", 2, 0);
  for (let i = 4; i < size; i++) piece(`${i % 3 === 0 ? "\u2581" : ""}p${i}`, 1, -i / size);
  return SentencePiece.fromBytes(model.toBuffer(), `synthetic-${size}`);
}

/** A 16 kHz 16-bit WAV of syllable-like noise bursts (80–300 ms) in phrases of 1–8 s, pauses of 0.3–1.2 s. */
function syntheticRecording(path: string, seconds: number): number {
  const rate = 16000;
  const n = Math.round(seconds * rate);
  const pcm = new Int16Array(n);
  const rng = new Rng(1234);
  let at = Math.round(0.5 * rate);
  while (at < n) {
    const phraseEnd = Math.min(n, at + Math.round((1 + 7 * rng.uniform()) * rate));
    while (at < phraseEnd) {
      const len = Math.round((0.08 + 0.22 * rng.uniform()) * rate);
      const f = 120 + 200 * rng.uniform();
      for (let i = 0; i < len && at + i < n; i++) {
        const env = Math.sin((Math.PI * i) / len);
        const v = env * (0.3 * Math.sin((2 * Math.PI * f * i) / rate) + 0.1 * rng.normal());
        pcm[at + i] = Math.max(-32768, Math.min(32767, Math.round(v * 20000)));
      }
      at += len;
    }
    at += Math.round((0.3 + 0.9 * rng.uniform()) * rate);
  }
  for (let i = 0; i < n; i++) pcm[i] = pcm[i]! + Math.round(rng.normal() * 30);
  writeFileSync(path, Buffer.concat([wavHeader(PCM16_MONO(rate), n * 2), Buffer.from(pcm.buffer)]));
  return n / rate;
}

/** The eager libtorch forward behind the translator's batch interface. */
async function torchRunner(cfg: NastConfig, state: Map<string, StoredTensor>, threads: number): Promise<BatchRunner> {
  const torch = await import("../torch/index.ts");
  const { EagerOps } = await import("../eager/eager-ops.ts");
  const { forward } = await import("../model/nast.ts");
  torch.setNumThreads(threads);
  const params = new Map<string, Tensor>();
  for (const [name, t] of state) params.set(name, torch.keep(torch.Tensor.fromBytes(t.data, t.shape, t.dtype as "float32")));
  const ops = new EagerOps(params, false);
  return {
    // No alternatives to the blank here: a blank penalty reads the log-probabilities (BatchOutput).
    async run(items: readonly Features[], reads: OutputReads = "greedy"): Promise<BatchOutput> {
      const B = items.length;
      const T = Math.max(...items.map((x) => x.frames));
      const D = cfg.inputDim;
      const feats = new Float32Array(B * T * D);
      items.forEach((x, b) => feats.set(x.feats.subarray(0, x.frames * D), b * T * D));
      return torch.noGrad(() =>
        torch.tidy(() => {
          const out = forward(
            ops,
            cfg,
            torch.Tensor.fromTypedArray(feats, [B, T, D], "float32"),
            torch.Tensor.fromTypedArray(BigInt64Array.from(items, (x) => BigInt(x.frames)), [B], "int64"),
          );
          const logProbs = out.tgtLogits.logSoftmax(2);
          return {
            batch: B,
            steps: logProbs.shape[1]!,
            vocab: cfg.vocabSize,
            outLengths: Array.from(out.outLengths.data() as BigInt64Array, Number),
            tgtIds: copyIds(out.tgtLogits.argmax(2).data() as BigInt64Array),
            tgtScores: Float32Array.from(logProbs.max(2).data() as Float32Array),
            srcIds: copyIds(out.srcLogits.argmax(2).data() as BigInt64Array),
            ...(reads !== "greedy" ? { tgtLogProbs: Float32Array.from(logProbs.data() as Float32Array) } : {}),
          };
        }),
      );
    },
  };
}

/** A copy that outlives the tensor the view came from. */
function copyIds(a: BigInt64Array): BigInt64Array {
  return BigInt64Array.from(a);
}

interface Row {
  preset: string;
  parameters: number;
  engine: "onnxruntime" | "onnxruntime-int8" | "libtorch";
  batch: number;
  audioSeconds: number;
  segments: number;
  seconds: number;
  realTimeFactor: number;
  segmentsPerSecond: number;
  share: { audio: number; features: number; network: number; ctc: number };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        json: { type: "boolean" },
        ...stringFlags("presets", "seconds", "threads", "batch", "engines", "repeat"),
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const presets = (v.presets ?? "tiny,small,base").split(",");
  for (const p of presets) {
    if (!Object.hasOwn(PRESETS, p) && !existsSync(p)) throw new UsageError(`--presets: '${p}' is neither a preset (${Object.keys(PRESETS).join(", ")}) nor a config file`);
  }
  const seconds = Number(v.seconds ?? 60);
  const threads = Number(v.threads ?? 2);
  const batch = Number(v.batch ?? 8);
  const repeat = Number(v.repeat ?? 2);
  if (!(seconds > 0) || [threads, batch, repeat].some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`bad --seconds, --threads, --batch or --repeat\n\n${USAGE}`);
  const engines = (v.engines ?? "onnx,torch").split(",");
  const ENGINES = { onnx: "onnxruntime", "onnx-int8": "onnxruntime-int8", torch: "libtorch" } as const;
  for (const e of engines) if (!Object.hasOwn(ENGINES, e)) throw new UsageError(`--engines: unknown engine '${e}' (${Object.keys(ENGINES).join(", ")})`);

  const work = mkdtempSync(join(tmpdir(), "nast-bench-infer-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const wav = join(work, "bench.wav");
    const audioSeconds = syntheticRecording(wav, seconds);
    const warmWav = join(work, "warm.wav");
    syntheticRecording(warmWav, 3);
    for (const source of presets) {
      // A config file (an ablation, say) is labelled by its name: models/configs/ablations/no-lisa.json → no-lisa.
      const preset = Object.hasOwn(PRESETS, source) ? source : basename(source, ".json");
      const cfg = loadConfig(source);
      const state = randomStateDict(cfg, 1);
      const built = buildOnnxModel(cfg, state);
      const pkg: ModelPackage = { dir: `random-${preset}`, cfg, sp: syntheticSentencePiece(cfg.vocabSize), onnx: Buffer.concat(built.chunks), frameSeconds: frameSeconds(cfg), metadata: {} };
      for (const engine of engines as Array<keyof typeof ENGINES>) {
        let runner: BatchRunner;
        let release = async (): Promise<void> => {};
        if (engine !== "torch") {
          const onnx = engine === "onnx" ? pkg.onnx : Buffer.concat(buildOnnxModel(cfg, state, { int8: true }).chunks);
          const session = await NastSession.create({ ...pkg, onnx }, { threads });
          runner = session;
          release = () => session.release();
        } else {
          try {
            runner = await torchRunner(cfg, state, threads);
          } catch (err) {
            notes.push(`libtorch rows skipped: ${errorMessage(err)}`);
            continue;
          }
        }
        for (const b of [1, batch]) {
          const translator = new Translator(pkg, runner, { batchSize: b, progress: false });
          await translator.translateFile(warmWav, pkg.dir);
          // The fastest of `repeat` runs: other processes on a small machine only ever add time.
          let best: { wall: number; t: typeof translator.timings; segments: number } | undefined;
          for (let k = 0; k < repeat; k++) {
            Object.assign(translator.timings, { audio: 0, features: 0, network: 0, ctc: 0 });
            const t0 = performance.now();
            const result = await translator.translateFile(wav, pkg.dir);
            const wallK = (performance.now() - t0) / 1000;
            if (!best || wallK < best.wall) best = { wall: wallK, t: { ...translator.timings }, segments: result.segments.length };
          }
          const { wall, t, segments } = best!;
          const share = (x: number): number => Number((x / wall).toFixed(3));
          rows.push({
            preset,
            parameters: built.parameters,
            engine: ENGINES[engine],
            batch: b,
            audioSeconds: Number(audioSeconds.toFixed(2)),
            segments,
            seconds: Number(wall.toFixed(3)),
            realTimeFactor: Number((wall / audioSeconds).toFixed(4)),
            segmentsPerSecond: Number((segments / wall).toFixed(2)),
            share: { audio: share(t.audio), features: share(t.features), network: share(t.network), ctc: share(t.ctc) },
          });
          if (!v.json) process.stderr.write(`bench infer: ${preset} ${engine} batch ${b}: RTF ${rows[rows.length - 1]!.realTimeFactor}\n`);
        }
        await release();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ threads, seconds, repeat, rows, notes }, null, 2)}\n`);
    return 0;
  }
  const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
  const lines = [
    `Audio: ${seconds} s synthetic recording with pauses; ${threads} threads; random-init weights; fastest of ${repeat} runs.`,
    "",
    "| preset | params | engine | batch | RTF | segments/s | audio decode | features | network | CTC decode |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.preset} | ${(r.parameters / 1e6).toFixed(1)} M | ${r.engine} | ${r.batch} | ${r.realTimeFactor.toFixed(4)} | ${r.segmentsPerSecond.toFixed(2)} | ${pct(r.share.audio)} | ${pct(r.share.features)} | ${pct(r.share.network)} | ${pct(r.share.ctc)} |`,
    ),
    ...notes.map((n) => `\n${n}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
