// Everything that is not WAV goes through a spawned system ffmpeg (mp3, flac, ogg/opus, m4a/aac,
// webm, the audio track of a video). ffmpeg gets an argument array (no shell), decodes the first
// audio stream, mixes it to mono (-ac 1: the channel average for stereo, ffmpeg's standard downmix
// for surround) and resamples it with its own resampler to the requested rate (-ar), writing raw
// float32 little-endian samples to stdout. Our own resampler serves the WAV path.
import { spawn } from "node:child_process";
import { InputError } from "../util/errors.ts";

export interface FfmpegOptions {
  /** The ffmpeg executable; default $NAST_FFMPEG or "ffmpeg" on the PATH. */
  ffmpeg?: string;
  sampleRate: number;
}

/** Keeps the end of ffmpeg's stderr for the error message (it can be long for broken files). */
const STDERR_KEEP = 4000;

function ffmpegBinary(opts: FfmpegOptions): string {
  return opts.ffmpeg ?? process.env.NAST_FFMPEG ?? "ffmpeg";
}

/**
 * Decodes `input` (a file path, or bytes fed on stdin) with ffmpeg; yields mono float32 blocks at
 * opts.sampleRate as they arrive, so memory stays bounded for the streaming caller.
 */
export async function* ffmpegMonoBlocks(
  input: { path: string } | { bytes: Uint8Array },
  name: string,
  opts: FfmpegOptions,
): AsyncGenerator<Float32Array> {
  const binary = ffmpegBinary(opts);
  const source = "path" in input ? `file:${input.path}` : "pipe:0";
  const args = [
    "-hide_banner",
    "-loglevel",
    "error",
    ...("path" in input ? ["-nostdin"] : []),
    "-i",
    source,
    "-map",
    "0:a:0",
    "-vn",
    "-ac",
    "1",
    "-ar",
    String(opts.sampleRate),
    "-f",
    "f32le",
    "-c:a",
    "pcm_f32le",
    "pipe:1",
  ];
  const child = spawn(binary, args, { stdio: ["path" in input ? "ignore" : "pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: NodeJS.ErrnoException }>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) => resolve({ code: null, signal: null, spawnError: err }));
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  if ("bytes" in input) {
    // ffmpeg may stop reading early (garbage input): ignore EPIPE, the exit status tells the story.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input.bytes);
  }
  let carry = new Uint8Array(0);
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let bytes: Uint8Array = chunk;
      if (carry.length > 0) {
        const merged = new Uint8Array(carry.length + chunk.length);
        merged.set(carry);
        merged.set(chunk, carry.length);
        bytes = merged;
      }
      const whole = bytes.length - (bytes.length % 4);
      carry = bytes.slice(whole);
      if (whole === 0) continue;
      // Copy into an aligned Float32Array (Buffer chunks need not be 4-byte aligned).
      const block = new Float32Array(whole / 4);
      new Uint8Array(block.buffer).set(bytes.subarray(0, whole));
      yield block;
    }
  } finally {
    // A consumer that stops early must not leave ffmpeg running.
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  const result = await exited;
  if (result.spawnError !== undefined) {
    if (result.spawnError.code === "ENOENT") {
      throw new InputError(
        name,
        `decoding this format needs ffmpeg, which was not found ('${binary}'); install it (Debian: apt-get install ffmpeg) or convert the file to WAV`,
      );
    }
    throw new InputError(name, `could not run ffmpeg ('${binary}'): ${result.spawnError.message}`);
  }
  if (result.code !== 0) {
    const detail = stderr.trim().split("\n").slice(-3).join(" | ") || `exit code ${result.code ?? result.signal}`;
    const hint = /matches no streams/.test(stderr) ? "it has no audio stream" : "not a readable audio/video file";
    throw new InputError(name, `${hint} (ffmpeg: ${detail})`);
  }
}
