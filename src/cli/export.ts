// `nast export CKPT -o MODEL_DIR [--fp16] [--int8 [--int8-scope LIST]] [--spm PATH]`: checkpoint → ONNX model package, then a smoke
// run of the package in onnxruntime (loads, agrees with itself, gives finite outputs).
import { exportModel, weightsLabel } from "../export/exporter.ts";
import { loadModelPackage } from "../formats/model-package.ts";
import { openSession } from "../infer/session.ts";
import { isSearchRunner } from "../infer/batch-runner.ts";
import { UsageError } from "../util/errors.ts";
import { booleanFlags, numberFlag, parseFlags, stringFlags } from "./args.ts";
import { INT8_SCOPES, type Int8Scope } from "../export/int8.ts";

const USAGE = `usage: nast export CKPT -o MODEL_DIR [--fp16] [--int8 [--int8-scope LIST]] [--spm SPM_MODEL]
                   [--blank-penalty X] [--force]

Exports a checkpoint (a .safetensors file written by nast train / nast average, or a directory holding
one) to a model package: MODEL_DIR/model.onnx (opset 17, symbolic batch and time axes), spm.model,
config.json (the resolved config, also embedded in model.onnx) and MODEL_CARD.md. An autoregressive
checkpoint ("arch": "ar") also gets decoder.onnx, its decoder step; model.onnx is then its encoder.

options:
  -o, --output DIR    the model package directory (created; a package already there is kept
                      unless --force; a symbolic link is refused)
      --force         replace the package in MODEL_DIR
      --fp16          store the weights as float16 (half the size; cast to float32 when loaded)
      --int8          store weights as int8 (a quarter of their size) and take their products in
                      integers (dynamic quantization: each activation is quantized per tensor as the
                      model runs); with --fp16 the rest is float16
      --int8-scope LIST
                      what --int8 covers (default ${INT8_SCOPES.join(",")}): linear (the linear
                      layers), embeddings (the products of CTC probabilities with the PAE and adapter
                      tables), conv (the subsampler's convolutions)
      --spm PATH      the SentencePiece model (default: spm.model next to the checkpoint or up to two
                      directories above it, e.g. DATA_DIR/spm.model)
      --blank-penalty X
                      the package's default blank penalty (config.json "decoding", which nast
                      translate, nast eval and the page use unless told otherwise; docs/model.md §6):
                      tune it on dev with nast eval --blank-penalty; default: the checkpoint's, if any
  -h, --help          this help
`;

/** --int8-scope's comma-separated list, each of INT8_SCOPES at most once. */
function scopeList(text: string): Int8Scope[] {
  const items = text.split(",").map((s) => s.trim());
  for (const item of items) {
    if (!(INT8_SCOPES as readonly string[]).includes(item)) throw new UsageError(`--int8-scope: '${item}' is not one of ${INT8_SCOPES.join(", ")}\n\n${USAGE}`);
  }
  if (new Set(items).size !== items.length) throw new UsageError(`--int8-scope: '${text}' names something twice\n\n${USAGE}`);
  return items as Int8Scope[];
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        ...booleanFlags("fp16", "int8", "force"),
        ...stringFlags("spm", "blank-penalty", "int8-scope"),
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`give exactly one checkpoint\n\n${USAGE}`);
  if (values.output === undefined) throw new UsageError(`-o MODEL_DIR is required\n\n${USAGE}`);
  const t0 = performance.now();
  const blankPenalty = numberFlag(values["blank-penalty"], "--blank-penalty");
  const int8Scope = values["int8-scope"] === undefined ? undefined : scopeList(values["int8-scope"]);
  if (int8Scope !== undefined && !values.int8) throw new UsageError(`--int8-scope says what --int8 covers: give --int8 too\n\n${USAGE}`);
  const result = exportModel({
    checkpoint: positionals[0]!, outDir: values.output, spm: values.spm, fp16: values.fp16, int8: values.int8, force: values.force,
    ...(int8Scope !== undefined ? { int8Scope } : {}),
    ...(blankPenalty !== undefined ? { blankPenalty } : {}),
  });

  // Smoke run: the package loads and a 2 s input of noise gives finite log-probabilities (an autoregressive
  // model: a finite greedy score).
  const pkg = loadModelPackage(values.output);
  const session = await openSession(pkg, {});
  const frames = 200;
  const feats = new Float32Array(frames * pkg.cfg.inputDim);
  for (let i = 0; i < feats.length; i++) feats[i] = Math.sin(i * 0.37) * 0.8;
  const scores = isSearchRunner(session) ? (await session.search([{ feats, frames }], 1)).hypotheses.map((h) => h.score) : (await session.run([{ feats, frames }])).tgtScores;
  await session.release();
  if (!scores.every((v) => Number.isFinite(v))) throw new Error(`${result.modelPath}: the exported model gives non-finite outputs; the checkpoint may be corrupt`);

  process.stdout.write(
    `${JSON.stringify({
      model: result.modelPath,
      bytes: result.bytes,
      nodes: result.nodes,
      parameters: result.parameters,
      weights: weightsLabel({ fp16: values.fp16, int8: values.int8 }),
      spm: result.spm,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    })}\n`,
  );
  return 0;
}
