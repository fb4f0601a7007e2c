// decodeAudio: any audio (or video) input to mono float32 samples in [-1, 1] at 16 kHz.
// WAV is decoded in-process (wav.ts, through wavefile) and resampled by our windowed-sinc resampler
// (resample.ts); every other format goes through ffmpeg (ffmpeg.ts). Bad inputs raise an InputError
// that names the input. Memory: the WAV path reads the file in blocks and allocates the output once,
// at its exact final size, so an hour of 16 kHz audio costs 230 MB and no second copy; the ffmpeg
// path grows one buffer. `decodeAudioChunks` streams instead, and `openAudioSource` streams an input
// as often as needed (`nast translate` makes two passes), copying stdin and FIFOs to a temporary file.
import { createWriteStream, rmSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { InputError } from "../util/errors.ts";
import { ffmpegMonoBlocks } from "./ffmpeg.ts";
import { type ByteSource, isWavSignature } from "./wav.ts";
import { bufferSource, openedWav, wavOrFallback, type OpenedAudio } from "./wav-source.ts";

export const FEATURE_SAMPLE_RATE = 16000;

export interface DecodeOptions {
  /** Output rate; default 16000 (what the fbank expects). */
  sampleRate?: number;
  /** Refuse inputs longer than this, before allocating (default 12 h = 2.8 GB of 16 kHz float32). */
  maxSeconds?: number;
  /** ffmpeg executable (default $NAST_FFMPEG or "ffmpeg"). */
  ffmpeg?: string;
  /** Name used in error messages for Buffer input (default "<buffer>"). */
  name?: string;
}

export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
  duration: number;
}

const DEFAULT_MAX_SECONDS = 12 * 3600;

async function readStdin(): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

async function openAudio(input: string | Uint8Array, opts: DecodeOptions, pathName?: string): Promise<OpenedAudio> {
  const rate = opts.sampleRate ?? FEATURE_SAMPLE_RATE;
  const ffmpegOpts = { sampleRate: rate, ...(opts.ffmpeg !== undefined ? { ffmpeg: opts.ffmpeg } : {}) };
  const fromBytes = async (bytes: Uint8Array, name: string): Promise<OpenedAudio> => {
    if (bytes.length === 0) throw new InputError(name, "is empty (0 bytes)");
    if (isWavSignature(bytes.subarray(0, 12))) {
      const source = bufferSource(bytes);
      const wav = await wavOrFallback(source, name);
      if (typeof wav !== "number") return openedWav(source, wav, name, rate, async () => {});
      return { name, blocks: withCodecContext(ffmpegMonoBlocks({ bytes }, name, ffmpegOpts), name, wav), close: async () => {} };
    }
    return { name, blocks: ffmpegMonoBlocks({ bytes }, name, ffmpegOpts), close: async () => {} };
  };

  if (typeof input !== "string") return fromBytes(input, opts.name ?? "<buffer>");
  if (input === "-") return fromBytes(await readStdin(), opts.name ?? "<stdin>");

  const name = pathName ?? input;
  const info = await stat(input).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") throw new InputError(name, "no such file");
    throw new InputError(name, `cannot read it (${err.code ?? err.message})`);
  });
  if (info.isDirectory()) throw new InputError(name, "is a directory, not an audio file");
  if (!info.isFile()) {
    // A FIFO or device: hand it to ffmpeg, which reads it as a stream.
    return { name, blocks: ffmpegMonoBlocks({ path: input }, name, ffmpegOpts), close: async () => {} };
  }
  if (info.size === 0) throw new InputError(name, "is empty (0 bytes)");
  const handle = await open(input, "r").catch((err: NodeJS.ErrnoException) => {
    throw new InputError(name, `cannot open it (${err.code ?? err.message})`);
  });
  const source: ByteSource = {
    size: info.size,
    read: async (offset, length) => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, info.size - offset)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    },
  };
  let unsupportedTag: number | null = null;
  try {
    const head = await source.read(0, 12);
    if (isWavSignature(head)) {
      const wav = await wavOrFallback(source, name);
      if (typeof wav !== "number") return openedWav(source, wav, name, rate, () => handle.close());
      unsupportedTag = wav;
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
  await handle.close();
  const blocks = ffmpegMonoBlocks({ path: input }, name, ffmpegOpts);
  return { name, blocks: unsupportedTag === null ? blocks : withCodecContext(blocks, name, unsupportedTag), close: async () => {} };
}

/** ffmpeg's errors for a WAV codec we hand over say which format tag it was. */
async function* withCodecContext(blocks: AsyncGenerator<Float32Array>, name: string, tag: number): AsyncGenerator<Float32Array> {
  try {
    yield* blocks;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(name, `WAV codec 0x${tag.toString(16)} is neither PCM, float, A-law nor µ-law, and ffmpeg could not decode it: ${err.message.slice(name.length + 2)}`);
  }
}

function checkLength(name: string, samples: number, rate: number, maxSeconds: number): void {
  if (samples > maxSeconds * rate) {
    throw new InputError(name, `is longer than the ${(maxSeconds / 3600).toFixed(1)} h limit; split it (e.g. ffmpeg -ss/-t) or raise maxSeconds`);
  }
}

/**
 * Decodes an audio file path, "-" (stdin) or the bytes of a file to mono float32 at 16 kHz (or
 * opts.sampleRate). Errors (missing file, directory, corrupt header, NaN samples, no samples, no
 * ffmpeg for a non-WAV format) are InputErrors whose message starts with the input's name.
 */
export async function decodeAudio(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<DecodedAudio> {
  const rate = opts.sampleRate ?? FEATURE_SAMPLE_RATE;
  const maxSeconds = opts.maxSeconds ?? DEFAULT_MAX_SECONDS;
  const audio = await openAudio(input, opts);
  try {
    let samples: Float32Array;
    let length = 0;
    if (audio.expectedLength !== undefined) {
      checkLength(audio.name, audio.expectedLength, rate, maxSeconds);
      samples = new Float32Array(audio.expectedLength);
      for await (const block of audio.blocks) {
        samples.set(block, length);
        length += block.length;
      }
    } else {
      samples = new Float32Array(rate * 60);
      for await (const block of audio.blocks) {
        if (length + block.length > samples.length) {
          checkLength(audio.name, length + block.length, rate, maxSeconds);
          const grown = new Float32Array(Math.max(length + block.length, Math.ceil(samples.length * 1.5)));
          grown.set(samples.subarray(0, length));
          samples = grown;
        }
        samples.set(block, length);
        length += block.length;
      }
      // Trim only when the slack is large, to avoid a second full-size copy for a few seconds.
      samples = length < samples.length * 0.9 ? samples.slice(0, length) : samples.subarray(0, length);
      checkNonFinite(audio.name, samples, rate);
    }
    if (length === 0) throw new InputError(audio.name, "contains no audio samples");
    return { samples, sampleRate: rate, duration: length / rate };
  } finally {
    await audio.close();
  }
}

/** ffmpeg passes NaN/Inf through from float sources; refuse them as the WAV path does. */
function checkNonFinite(name: string, samples: Float32Array, rate: number, first = 0): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i]!)) {
      const at = first + i;
      throw new InputError(name, `sample ${at} (at ${(at / rate).toFixed(3)} s) is ${samples[i]} — corrupt float data`);
    }
  }
}

/**
 * Streams the decoded 16 kHz mono samples in blocks (sizes vary), for long inputs that should not
 * be held whole. Same errors as decodeAudio, raised while iterating.
 */
export async function* decodeAudioChunks(input: string | Uint8Array, opts: DecodeOptions = {}): AsyncGenerator<Float32Array> {
  yield* chunksOf(input, opts);
}

async function* chunksOf(input: string | Uint8Array, opts: DecodeOptions, pathName?: string): AsyncGenerator<Float32Array> {
  const rate = opts.sampleRate ?? FEATURE_SAMPLE_RATE;
  const audio = await openAudio(input, opts, pathName);
  try {
    let total = 0;
    for await (const block of audio.blocks) {
      if (audio.expectedLength === undefined) checkNonFinite(audio.name, block, rate, total);
      total += block.length;
      yield block;
    }
    if (total === 0) throw new InputError(audio.name, "contains no audio samples");
  } finally {
    await audio.close();
  }
}

/** An input that can be decoded more than once, from the start each time (openAudioSource). */
export interface AudioSource {
  /** The name errors give (the path, "<stdin>", the Buffer's name). */
  readonly name: string;
  /** One decoding pass, in blocks: the same samples and errors as decodeAudioChunks. */
  chunks(): AsyncGenerator<Float32Array>;
  /** Removes the temporary copy of a stream, if one was made. */
  close(): Promise<void>;
}

/**
 * An input to decode in several passes with bounded memory (`nast translate` measures the levels of a
 * recording in a first pass, then cuts and translates it in a second). A file is read again for each
 * pass; stdin ("-") and other streams (FIFOs, devices), which can be read only once, are first copied
 * to a temporary file (disk, not memory); bytes in memory are decoded from memory. No length limit
 * applies (opts.maxSeconds is decodeAudio's, for the whole recording it allocates).
 */
export async function openAudioSource(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<AudioSource> {
  if (typeof input !== "string") {
    const name = opts.name ?? "<buffer>";
    return { name, chunks: () => chunksOf(input, { ...opts, name }), close: async () => {} };
  }
  let stream: NodeJS.ReadableStream | null = null;
  let name = input;
  if (input === "-") {
    stream = process.stdin;
    name = opts.name ?? "<stdin>";
  } else {
    const info = await stat(input).catch(() => null);
    if (info !== null && !info.isFile() && !info.isDirectory()) {
      const handle = await open(input, "r").catch((err: NodeJS.ErrnoException) => {
        throw new InputError(name, `cannot open it (${err.code ?? err.message})`);
      });
      stream = handle.createReadStream();
    }
  }
  if (stream === null) return { name, chunks: () => chunksOf(input, opts), close: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "nast-input-"));
  copies.add(dir);
  if (!removeOnExit) {
    removeOnExit = true;
    process.once("exit", removeCopies);
  }
  const remove = async (): Promise<void> => {
    copies.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
  const copy = join(dir, "input");
  try {
    await pipeline(stream, createWriteStream(copy, { flags: "wx" }));
  } catch (err) {
    await remove();
    const e = err as NodeJS.ErrnoException;
    throw new InputError(name, `cannot copy it to a temporary file in ${tmpdir()} (${e.code ?? e.message})`);
  }
  return { name, chunks: () => chunksOf(copy, opts, name), close: remove };
}

/** Temporary copies of streams not yet closed: removed if the process exits first. */
const copies = new Set<string>();
let removeOnExit = false;

function removeCopies(): void {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  copies.clear();
}
