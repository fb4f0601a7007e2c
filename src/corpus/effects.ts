// From an engine's WAV to 16 kHz mono float samples, with the speaker's tempo/pitch (festival and
// flite) and the voice stage of the talk's augmentation (speed perturbation: Ko et al. 2015, factors
// 0.9/1.0/1.1, as Kaldi and fairseq recipes use; tempo and pitch), applied per segment because they
// change durations; the rest of the augmentation (augment.ts) runs on the whole talk after
// concatenation. Coloured noise at a given SNR is one of its additive sources.
import { existsSync, statSync } from "node:fs";
import { PCM16_MONO, wavHeader } from "../audio/wav-header.ts";
import { runProcessBytes } from "./process.ts";
import { enginePackages, type Speaker } from "./voices.ts";
import { type Augmentation, voiceEffects } from "./augment.ts";
import type { Tools } from "./tools.ts";

export const sampleRate = 16000;

/** The sox effect chain for one segment; sox resamples with its high-quality ("-v") band-limited filter. */
export function soxEffects(speaker: Speaker, aug: Augmentation): string[] {
  return [...voiceEffects(aug, speaker.tempo ?? 1, speaker.cents ?? 0), "rate", "-v", String(sampleRate)];
}

/** Runs sox on one engine WAV; returns 16 kHz mono float32 samples. */
export async function toSpeech16k(wav: string, speaker: Speaker, aug: Augmentation, tools: Tools): Promise<Float32Array> {
  if (!existsSync(wav) || statSync(wav).size <= 44) {
    throw new Error(`${speaker.engine} voice ${speaker.voice} wrote no audio (${wav}); are its Debian packages installed? (${enginePackages[speaker.engine]})`);
  }
  const args = ["-V1", wav, "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-", ...soxEffects(speaker, aug)];
  const bytes = await runProcessBytes(tools.sox, args, "", tools.env);
  const out = new Float32Array(bytes.length >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** Scales down (never up) so that the peak stays below full scale: reverb and noise can clip. */
export function limitPeak(x: Float32Array, peak = 0.97): void {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  if (m <= peak) return;
  const g = peak / m;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * g;
}

/** 16-bit PCM mono WAV (RIFF, 44-byte header) of float samples in [-1, 1]. */
export function wavBytes(x: Float32Array, rate = sampleRate): Buffer {
  const buf = Buffer.alloc(44 + x.length * 2);
  buf.set(wavHeader(PCM16_MONO(rate), x.length * 2), 0);
  // Buffer.alloc gives a fresh, aligned ArrayBuffer, so the samples can be written through a view.
  const pcm = new Int16Array(buf.buffer, buf.byteOffset + 44, x.length);
  for (let i = 0; i < x.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767);
  return buf;
}
