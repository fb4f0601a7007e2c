// A dropped or recorded file as 16 kHz mono samples. WAV goes through our own decoder and resampler
// (src/audio/wav-source.ts), as in `nast translate`, so the page sees the CLI's samples exactly; other
// formats through the browser's decoder (WebAudio decodeAudioData, which resamples to its context's
// rate: 48 kHz here), mixed to mono by the mean of the channels as src/audio/wav.ts does, then our
// resampler (src/audio/resample.ts).
import { Resampler } from "../audio/resample.ts";
import { isWavSignature, UnsupportedWavCodec } from "../audio/wav.ts";
import { bufferSource, openedWav, wavOrFallback } from "../audio/wav-source.ts";
import type { SampleSource } from "../infer/segment-translator.ts";
import { InputError } from "../util/errors.ts";

const RATE = 16000;
const DECODE_RATE = 48000;

export async function audioSource(bytes: Uint8Array, name: string): Promise<SampleSource> {
  if (bytes.length === 0) throw new InputError(name, "is empty (0 bytes)");
  if (isWavSignature(bytes.subarray(0, 12))) {
    const source = bufferSource(bytes);
    const wav = await wavOrFallback(source, name);
    if (typeof wav !== "number") return { name, chunks: () => openedWav(source, wav, name, RATE, async () => {}).blocks };
    // A WAV codec of ours is missing (ADPCM, GSM...): the browser's decoder may know it.
    return browserDecoded(bytes, name, new UnsupportedWavCodec(wav));
  }
  return browserDecoded(bytes, name);
}

async function browserDecoded(bytes: Uint8Array, name: string, why?: Error): Promise<SampleSource> {
  const ctx = new OfflineAudioContext(1, 1, DECODE_RATE);
  let buffer: AudioBuffer;
  try {
    buffer = await ctx.decodeAudioData(bytes.slice().buffer);
  } catch (err) {
    const reason = why?.message ?? (err instanceof Error ? err.message : String(err));
    throw new InputError(name, `is not an audio or video file this browser can decode (${reason})`);
  }
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const ch = buffer.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i]! += ch[i]! / buffer.numberOfChannels;
  }
  if (mono.length === 0) throw new InputError(name, "contains no audio samples");
  const resampler = new Resampler(buffer.sampleRate, RATE);
  const samples = concat(resampler.push(mono), resampler.flush());
  return {
    name,
    chunks: async function* () {
      yield samples;
    },
  };
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
