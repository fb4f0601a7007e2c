// WAV bytes to 16 kHz blocks with our own decoder (./wav.ts) and resampler (./resample.ts), without
// node:* imports: `nast translate` (./decode.ts) and the browser page (src/web) read WAV through the same
// code, so both see the same samples.
import { Resampler } from "./resample.ts";
import { type ByteSource, type WavInfo, UnsupportedWavCodec, readWavInfo, wavMonoBlocks } from "./wav.ts";

export interface OpenedAudio {
  name: string;
  /** Exact number of output samples when the header tells it (WAV), else undefined. */
  expectedLength?: number;
  blocks: AsyncGenerator<Float32Array>;
  close: () => Promise<void>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)) };
}

export async function* resampled(blocks: AsyncGenerator<Float32Array>, inRate: number, outRate: number): AsyncGenerator<Float32Array> {
  if (inRate === outRate) {
    yield* blocks;
    return;
  }
  const resampler = new Resampler(inRate, outRate);
  for await (const block of blocks) {
    const out = resampler.push(block);
    if (out.length > 0) yield out;
  }
  const tail = resampler.flush();
  if (tail.length > 0) yield tail;
}

/** A WAV whose codec we decode ourselves: its blocks, resampled to `rate`, with the exact output length. */
export function openedWav(source: ByteSource, wav: WavInfo, name: string, rate: number, close: () => Promise<void>): OpenedAudio {
  return {
    name,
    expectedLength: Resampler.outputLength(wav.frames, wav.sampleRate, rate),
    blocks: resampled(wavMonoBlocks(source, wav, name), wav.sampleRate, rate),
    close,
  };
}

/** WAV header info, or the format tag of a codec that ffmpeg should decode (ADPCM, GSM, ...). */
export async function wavOrFallback(source: ByteSource, name: string): Promise<WavInfo | number> {
  try {
    return await readWavInfo(source, name);
  } catch (err) {
    if (err instanceof UnsupportedWavCodec) return err.formatTag;
    throw err;
  }
}
