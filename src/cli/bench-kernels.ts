// `nast bench kernels [--json] [--device cpu|cuda]`: what the libtorch binding costs and delivers.
//   1. per-op call overhead: a tiny add through the TypeScript API against the same add in a C++ loop;
//   2. fp32 matmul GFLOP/s through the binding against libtorch's own C++ loop, in the same run (ratio);
//   3. one training step (forward, backward, AdamW) of a small Transformer encoder.
// Rounds alternate between the binding and the C++ loop and the best of each is kept, so that other load
// on the machine affects both sides alike.
import { readFileSync } from "node:fs";
import {
  AdamW,
  cudaAvailable,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  crossEntropy,
  dropout,
  manualSeed,
  numThreads,
  ones,
  randint,
  randn,
  setNumThreads,
  setTF32,
  synchronize,
  tidy,
  torchVersion,
  Tensor,
} from "../torch/index.ts";
import { native } from "../torch/native.ts";
import { Progress } from "../util/progress.ts";
import { UsageError } from "../util/errors.ts";
import { parseFlags } from "./args.ts";

const USAGE = `usage: nast bench kernels [--json] [--device cpu|cuda] [--rounds N] [--threads N] [--tf32]

Measures the libtorch binding: per-op call overhead (µs), fp32 matmul GFLOP/s through the binding against
libtorch's own C++ loop in the same run, and one training step of a small Transformer encoder.
--threads sets libtorch's intra-op threads (default: libtorch's choice, one per physical core).
--tf32 lets CUDA fp32 matmuls and convolutions use TF32 tensor cores (off by default, as in PyTorch).
`;

interface Result {
  libtorch: string;
  device: string;
  tf32: boolean;
  threads: number;
  blas: string[];
  overhead: { bindingUsPerOp: number; cppUsPerOp: number; overheadUs: number };
  matmul: { n: number; iters: number; bindingGflops: number; cppGflops: number; ratio: number };
  trainStep: { batch: number; frames: number; dModel: number; layers: number; params: number; msPerStep: number };
}

/** The BLAS libraries mapped into this process (Debian's libtorch links libblas.so.3 via alternatives). */
function blasInUse(): string[] {
  try {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const libs = new Set<string>();
    for (const line of maps.split("\n")) {
      const path = line.slice(line.indexOf("/"));
      if (line.includes("/") && /blas|mkl/i.test(path)) libs.add(path.trim());
    }
    return [...libs];
  } catch {
    return [];
  }
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function measureOverhead(rounds: number, tick: () => void): Result["overhead"] {
  const n = 20000;
  let binding = Infinity;
  let cpp = Infinity;
  const a = ones([1]);
  const b = ones([1]);
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) a.add(b).dispose();
    binding = Math.min(binding, seconds(t0) / n);
    cpp = Math.min(cpp, native().benchAdd(n) / n);
    tick();
  }
  a.dispose();
  b.dispose();
  return { bindingUsPerOp: binding * 1e6, cppUsPerOp: cpp * 1e6, overheadUs: (binding - cpp) * 1e6 };
}

function measureMatmul(device: string, rounds: number, tick: () => void): Result["matmul"] {
  const n = device === "cpu" ? 1024 : 8192;
  const iters = device === "cpu" ? 10 : 20;
  const flops = 2 * n ** 3 * iters;
  const a = randn([n, n], { device });
  const b = randn([n, n], { device });
  a.matmul(b).dispose();
  synchronize();
  let binding = Infinity;
  let cpp = Infinity;
  const viaBinding = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) a.matmul(b).dispose();
    synchronize();
    binding = Math.min(binding, seconds(t0));
  };
  const viaCpp = () => {
    cpp = Math.min(cpp, native().benchMatmul(n, iters, device));
  };
  for (let r = 0; r < rounds; r++) {
    // alternate which side goes first so that neither always inherits the other's cache state
    if (r % 2 === 0) {
      viaBinding();
      viaCpp();
    } else {
      viaCpp();
      viaBinding();
    }
    tick();
  }
  a.dispose();
  b.dispose();
  const bindingGflops = flops / binding / 1e9;
  const cppGflops = flops / cpp / 1e9;
  return { n, iters, bindingGflops, cppGflops, ratio: bindingGflops / cppGflops };
}

/** A pre-LN Transformer encoder layer (Vaswani et al. 2017), written with the nn blocks. */
class EncoderLayer extends Module {
  readonly norm1: LayerNorm;
  readonly qkv: Linear;
  readonly out: Linear;
  readonly norm2: LayerNorm;
  readonly ff1: Linear;
  readonly ff2: Linear;
  constructor(
    readonly d: number,
    readonly heads: number,
  ) {
    super();
    this.norm1 = this.child("norm1", new LayerNorm(d));
    this.qkv = this.child("qkv", new Linear(d, 3 * d));
    this.out = this.child("out", new Linear(d, d));
    this.norm2 = this.child("norm2", new LayerNorm(d));
    this.ff1 = this.child("ff1", new Linear(d, 4 * d));
    this.ff2 = this.child("ff2", new Linear(4 * d, d));
  }
  forward(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const dh = this.d / this.heads;
    const [q, k, v] = this.qkv
      .forward(this.norm1.forward(x))
      .reshape([b, t, 3, this.heads, dh])
      .permute([2, 0, 3, 1, 4])
      .split(1, 0)
      .map((p) => p.squeeze(0)) as [Tensor, Tensor, Tensor];
    const attn = q.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(dh)).softmax(-1);
    const ctx = dropout(attn, 0.1, this.training).matmul(v).permute([0, 2, 1, 3]).reshape([b, t, this.d]);
    const h = x.add(this.out.forward(ctx));
    return h.add(this.ff2.forward(dropout(this.ff1.forward(this.norm2.forward(h)).relu(), 0.1, this.training)));
  }
}

class Encoder extends Module {
  readonly embed: Embedding;
  readonly layers: EncoderLayer[];
  readonly head: Linear;
  constructor(vocab: number, d: number, heads: number, layers: number) {
    super();
    this.embed = this.child("embed", new Embedding(vocab, d));
    this.layers = Array.from({ length: layers }, (_, i) => this.child(`layers.${i}`, new EncoderLayer(d, heads)));
    this.head = this.child("head", new Linear(d, vocab));
  }
  forward(ids: Tensor): Tensor {
    let x = this.embed.forward(ids);
    for (const layer of this.layers) x = layer.forward(x);
    return this.head.forward(x);
  }
}

function measureTrainStep(device: string, rounds: number, tick: () => void): Result["trainStep"] {
  const cfg = device === "cpu" ? { batch: 8, frames: 128, dModel: 256, layers: 4 } : { batch: 32, frames: 512, dModel: 512, layers: 6 };
  const vocab = 1000;
  manualSeed(0);
  const model = new Encoder(vocab, cfg.dModel, 4, cfg.layers);
  if (device !== "cpu") model.to(device);
  const params = model.namedParameters();
  const opt = new AdamW(params, { lr: 1e-4 });
  const ids = randint(0, vocab, [cfg.batch, cfg.frames], { device });
  const step = () =>
    tidy(() => {
      const logits = model.forward(ids);
      const loss = crossEntropy(logits.reshape([-1, vocab]), ids.reshape([-1]));
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  step();
  synchronize();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    step();
    synchronize();
    best = Math.min(best, seconds(t0));
    tick();
  }
  const count = model.parameters().reduce((s, p) => s + p.numel, 0);
  ids.dispose();
  opt.dispose();
  model.dispose();
  return { ...cfg, params: count, msPerStep: best * 1e3 };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    options: {
      json: { type: "boolean", default: false },
      device: { type: "string", default: "cpu" },
      rounds: { type: "string", default: "5" },
      tf32: { type: "boolean", default: false },
      threads: { type: "string" },
    },
  }, USAGE);
  if (!parsed) return 0;
  const { values } = parsed;
  const device = values.device!;
  const rounds = Number(values.rounds);
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu or cuda[:N], not ${device}\n${USAGE}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer\n${USAGE}`);
  if (device.startsWith("cuda") && !cudaAvailable()) {
    process.stderr.write("nast bench kernels: CUDA is not available to this libtorch build.\n");
    return 1;
  }
  if (values.threads !== undefined) {
    const threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive integer\n${USAGE}`);
    setNumThreads(threads);
  }
  setTF32(values.tf32!);
  const progress = new Progress({ total: 3 * rounds, label: "bench kernels", enabled: values.json ? false : undefined });
  const tick = () => progress.tick();
  const overhead = measureOverhead(rounds, tick);
  const matmul = measureMatmul(device, rounds, tick);
  const trainStep = measureTrainStep(device, rounds, tick);
  progress.finish();
  const result: Result = {
    libtorch: torchVersion(),
    device,
    tf32: values.tf32!,
    threads: numThreads(),
    blas: blasInUse(),
    overhead,
    matmul,
    trainStep,
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    return 0;
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  process.stdout.write(
    [
      `libtorch ${result.libtorch} on ${device}${result.tf32 ? " (TF32)" : ""}, ${result.threads} thread(s); BLAS: ${result.blas.join(", ") || "(none mapped)"}`,
      `per-op call: binding ${f(overhead.bindingUsPerOp)} µs, C++ ${f(overhead.cppUsPerOp)} µs, overhead ${f(overhead.overheadUs)} µs`,
      `fp32 matmul ${matmul.n}³: binding ${f(matmul.bindingGflops, 1)} GFLOP/s, C++ loop ${f(matmul.cppGflops, 1)} GFLOP/s, ratio ${f(matmul.ratio, 3)}`,
      `train step (Transformer encoder, ${trainStep.layers} layers, d=${trainStep.dModel}, batch ${trainStep.batch}×${trainStep.frames}, ` +
        `${(trainStep.params / 1e6).toFixed(2)}M params): ${f(trainStep.msPerStep, 1)} ms`,
      "",
    ].join("\n"),
  );
  return 0;
}
