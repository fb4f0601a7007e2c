// `nast features`: the 80-bin Kaldi fbank (no CMVN) of audio files as float32 .npy [frames, 80].
// Several inputs go to a directory, one .npy each; a bad input is reported and the others go on.
// `--bench` measures the fbank speed on one core (a measurement for the README; never asserted).
import { mkdir, stat, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { decodeAudio } from "../audio/decode.ts";
import { FBANK_DIM, fbank } from "../audio/fbank.ts";
import { encodeNpyFloat32 } from "../formats/npy.ts";
import { Progress } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import { InputError, UsageError } from "../util/errors.ts";
import { parseFlags } from "./args.ts";

const USAGE = `usage: nast features <audio>... -o <out.npy | dir/ | ->
       nast features --bench [audio] [--seconds N]

Writes the 80-bin log-mel fbank (torchaudio.compliance.kaldi.fbank with fairseq's settings, no CMVN)
of each input as float32 .npy [frames, 80]. Inputs: WAV, or any format ffmpeg reads; "-" is stdin.
With several inputs, -o names a directory and each file becomes <dir>/<name>.npy.

options:
  -o, --output PATH   output .npy file, directory (several inputs), or "-" for stdout
      --bench         time the fbank alone on one core and print the speed in × real time
      --seconds N     length of the synthetic bench signal when no audio is given (default 600)
  -h, --help          this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        bench: { type: "boolean" },
        seconds: { type: "string" },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (values.bench) return bench(positionals[0], values.seconds);
  if (positionals.length === 0) throw new UsageError(`no input given\n\n${USAGE}`);
  if (values.output === undefined) throw new UsageError(`-o/--output is required\n\n${USAGE}`);
  const output = values.output;
  const many = positionals.length > 1;
  const targetOf = (input: string) => (many ? join(output, `${basename(input, extname(input)) || "stdin"}.npy`) : output);
  if (many) {
    if (output === "-") throw new UsageError("several inputs need -o DIR, not stdout");
    const seen = new Map<string, string>();
    for (const input of positionals) {
      const other = seen.get(targetOf(input));
      if (other !== undefined) throw new UsageError(`${other} and ${input} would both be written to ${targetOf(input)}`);
      seen.set(targetOf(input), input);
    }
    await mkdir(output, { recursive: true });
  } else {
    const isDir = await stat(output).then((s) => s.isDirectory(), () => false);
    if (isDir || output.endsWith("/")) throw new UsageError(`-o ${output} is a directory; give a file name for one input`);
  }
  let failures = 0;
  // A bar on a terminal for batches (silent when piped); a single file needs none.
  const progress = new Progress({ total: positionals.length, label: "features", unit: " files", enabled: many && Boolean(process.stderr.isTTY) });
  for (const input of positionals) {
    try {
      const audio = await decodeAudio(input);
      const feats = fbank(audio.samples, audio.sampleRate);
      if (feats.frames === 0) throw new InputError(input, `is ${audio.duration.toFixed(3)} s long, shorter than one 25 ms fbank window`);
      const npy = encodeNpyFloat32(feats.data, [feats.frames, FBANK_DIM]);
      if (output === "-") process.stdout.write(npy);
      else await writeFile(targetOf(input), npy);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      failures++;
      process.stderr.write(`nast features: ${err.message}\n`);
    }
    progress.tick();
  }
  progress.finish(failures > 0 ? `${failures} failed` : "");
  return failures === 0 ? 0 : 1;
}

/** Times fbank alone (decoding excluded) over repeated runs; prints × real time. */
async function bench(input: string | undefined, secondsFlag: string | undefined): Promise<number> {
  let samples: Float32Array;
  let label: string;
  if (input !== undefined) {
    samples = (await decodeAudio(input)).samples;
    label = input;
  } else {
    const seconds = Number(secondsFlag ?? 600);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--seconds must be a positive number, got ${secondsFlag}`);
    // Speech-like stand-in: a few harmonics plus noise (the fbank's cost does not depend on content).
    const rng = new Rng(1);
    samples = new Float32Array(Math.round(seconds * 16000));
    for (let i = 0; i < samples.length; i++) {
      samples[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 1330 * i) / 16000) + 0.05 * rng.normal();
    }
    label = `synthetic ${seconds} s`;
  }
  const audioSeconds = samples.length / 16000;
  fbank(samples.subarray(0, Math.min(samples.length, 16000 * 5))); // warm-up (JIT)
  // Repeat for at least 3 s. Wall time: the best run is the one least disturbed by other processes,
  // the median the typical one. CPU time of this process (one thread does the work) is what one
  // core delivers even when the machine is shared.
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < 3000 || times.length < 3) {
    const t0 = performance.now();
    fbank(samples);
    times.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuPerRun = (cpu.user + cpu.system) / 1e6 / times.length;
  times.sort((a, b) => a - b);
  const best = times[0]!;
  const median = times[Math.floor(times.length / 2)]!;
  const result = {
    audio: label,
    audioSeconds,
    runs: times.length,
    bestSeconds: best,
    medianSeconds: median,
    cpuSecondsPerRun: cpuPerRun,
    realTimeFactorBest: audioSeconds / best,
    realTimeFactorMedian: audioSeconds / median,
    realTimeFactorCpu: audioSeconds / cpuPerRun,
  };
  process.stdout.write(
    `fbank: ${audioSeconds.toFixed(1)} s of audio: ${result.realTimeFactorCpu.toFixed(0)}x real time per CPU second (one core); ` +
      `wall clock ${result.realTimeFactorBest.toFixed(0)}x best / ${result.realTimeFactorMedian.toFixed(0)}x median of ${times.length} runs\n${JSON.stringify(result)}\n`,
  );
  return 0;
}
