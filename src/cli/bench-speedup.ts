// `nast bench speedup`: CTC-NAST against its autoregressive counterpart on the same utterances (eval/harness/
// speedup.ts says what is timed and why both settings): onnxruntime at batch 1 on the CPU by default, libtorch
// batched by frames on the GPU with --engine torch; BLEU with sacreBLEU's paired bootstrap test; a Markdown table
// or JSON, and with -o the hypotheses beside them for `nast score`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureSpeedup, speedupMarkdown, type SpeedupEngine } from "../../eval/harness/speedup.ts";
import { UsageError } from "../util/errors.ts";
import { intFlag, parseFlags, stringFlags } from "./args.ts";

const USAGE = `usage: nast bench speedup --nast NAST --ar AR --data DATA_DIR [--split tst-COMMON] [--engine onnx|torch]
                          [--device cpu|cuda] [--precision bf16|fp32] [--threads 2] [--batch-frames N] [--beam 5]
                          [--limit N] [--lengths 10,20,30,40] [--bootstrap 1000] [--spin] [--json] [-o OUT_DIR]

Translates the utterances of DATA_DIR/SPLIT (a split prepared by nast prep) with CTC-NAST (greedy CTC) and
with its autoregressive counterpart (greedy and beam search), timing the models alone, and prints each
system's time, sentences/s, NAST's speed-up over it (a throughput ratio), BLEU with a 95% bootstrap interval
and the paired bootstrap p-value against AR beam search, and the speed-up by reference length.

options:
      --nast PATH        the CTC-NAST model: a package (onnx) or a checkpoint (torch)
      --ar PATH          the autoregressive model ("arch": "ar"): a package (onnx) or a checkpoint (torch)
      --data DIR         DATA_DIR of nast prep (its spm.model decodes the hypotheses)
      --split S          the split to translate (default tst-COMMON)
      --engine E         onnx (default: onnxruntime, as nast translate) or torch (libtorch)
      --device D         torch only: cpu (default) or cuda
      --precision P      torch on cuda: bf16 (default, autocast) or fp32
      --threads N        CPU threads of either engine (default 2)
      --batch-frames N   frames per batch, padding included; 0 = one utterance per batch
                         (default: 0 for onnx, 50000 for torch, the authors' decoding batch)
      --beam N           the AR beam (default 5)
      --limit N          the first N utterances only
      --lengths LIST     upper bounds of the reference-length groups in tokens (default 10,20,30,40)
      --bootstrap N      resamples of the paired bootstrap test (default 1000)
      --spin             onnx only: let idle onnxruntime threads spin (onnxruntime's default, nast
                         translate's); off by default here, since the systems take turns on the cores
      --json             print JSON instead of Markdown
  -o, --output DIR       also write speedup.json, speedup.md and hyp.<system>.txt / ref.txt there
  -h, --help             this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      options: {
        ...stringFlags("nast", "ar", "data", "split", "engine", "device", "precision", "threads"),
        ...stringFlags("batch-frames", "beam", "limit", "lengths", "bootstrap"),
        json: { type: "boolean" },
        spin: { type: "boolean" },
        output: { type: "string", short: "o" },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  if (!v.nast || !v.ar || !v.data) throw new UsageError(`--nast, --ar and --data are required\n\n${USAGE}`);
  const engineName = v.engine ?? "onnx";
  if (engineName !== "onnx" && engineName !== "torch") throw new UsageError(`--engine must be onnx or torch, got '${engineName}'`);
  const device = v.device ?? "cpu";
  if (engineName !== "onnx" && v.spin) throw new UsageError("--spin: onnxruntime's thread spinning; the torch engine has none");
  if (engineName === "onnx" && device !== "cpu") throw new UsageError("--device: the onnx engine runs on the CPU; use --engine torch for cuda");
  const precision = v.precision ?? "bf16";
  if (precision !== "bf16" && precision !== "fp32") throw new UsageError(`--precision must be bf16 or fp32, got '${precision}'`);
  const threads = intFlag(v.threads, "--threads", 1) ?? 2;
  const lengthEdges = (v.lengths ?? "10,20,30,40").split(",").map(Number);
  if (lengthEdges.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= lengthEdges[i - 1]!))) throw new UsageError(`--lengths needs increasing positive integers, got '${v.lengths}'`);

  let engine: SpeedupEngine;
  if (engineName === "onnx") {
    const { onnxEngine } = await import("../../eval/harness/speedup-onnx.ts");
    // The systems take turns batch by batch, so by default no session's idle threads spin on the cores the next one needs.
    engine = await onnxEngine(v.nast, v.ar, { threads, spinning: v.spin === true });
  } else {
    const torch = await import("../torch/index.ts");
    torch.setNumThreads(threads);
    const cuda = device.startsWith("cuda");
    if (cuda && !torch.cudaAvailable()) throw new UsageError(`--device ${device}: libtorch reports no CUDA device`);
    const { torchEngine } = await import("../../eval/harness/speedup-torch.ts");
    engine = torchEngine(v.nast, v.ar, device, cuda && precision === "bf16");
  }
  let report;
  try {
    report = await measureSpeedup(engine, {
      dataDir: v.data,
      split: v.split ?? "tst-COMMON",
      batchFrames: intFlag(v["batch-frames"], "--batch-frames", 0) ?? (engineName === "onnx" ? 0 : 50000),
      beam: intFlag(v.beam, "--beam", 2) ?? 5,
      limit: intFlag(v.limit, "--limit", 1) ?? null,
      lengthEdges,
      bootstrap: intFlag(v.bootstrap, "--bootstrap", 1) ?? 1000,
    });
  } finally {
    await engine.release();
  }
  const { hyps, refs, ...summary } = report;
  const markdown = speedupMarkdown(report);
  if (v.output) {
    mkdirSync(v.output, { recursive: true });
    writeFileSync(join(v.output, "speedup.json"), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(v.output, "speedup.md"), markdown);
    for (const [name, lines] of Object.entries(hyps)) writeFileSync(join(v.output, `hyp.${name.toLowerCase().replaceAll(" ", "-")}.txt`), `${lines.join("\n")}\n`);
    writeFileSync(join(v.output, "ref.txt"), `${refs.join("\n")}\n`);
  }
  process.stdout.write(v.json ? `${JSON.stringify(summary, null, 2)}\n` : markdown);
  return 0;
}
