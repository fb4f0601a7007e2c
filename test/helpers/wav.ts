// 16-bit mono PCM WAV files of float samples for the tests' inputs (header: src/audio/wav-header.ts).
import { PCM16_MONO, wavHeader } from "../../src/audio/wav-header.ts";

/** The file's bytes; samples in [-1, 1] are scaled by 32767, rounded and clipped to int16. */
export function pcm16Wav(samples: Float32Array, rate = 16000): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), 2 * i);
  return Buffer.concat([wavHeader(PCM16_MONO(rate), data.length), data]);
}
