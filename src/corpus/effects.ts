// From an engine's WAV to 16 kHz mono float samples, with the speaker's tempo/pitch (festival and
// flite) and the training augmentations of the talk: speed perturbation (Ko et al. 2015, factors
// 0.9/1.0/1.1, as Kaldi and fairseq recipes use), reverberation (sox's Freeverb-based `reverb`), and,
// after concatenation, additive noise at a given SNR.
import { existsSync, statSync } from "node:fs";
import { PCM16_MONO, wavHeader } from "../audio/wav-header.ts";
import { runProcessBytes } from "./process.ts";
import { enginePackages, type Speaker } from "./voices.ts";
import type { Tools } from "./tools.ts";
import type { Rng } from "./rng.ts";

export const sampleRate = 16000;

export interface Augmentation {
  /** Speed factor (changes tempo and pitch together, like resampling). */
  speed: number;
  reverb?: { reverberance: number; hfDamping: number; roomScale: number };
  noise?: { snrDb: number; color: NoiseColor };
}

export type NoiseColor = "white" | "pink" | "brown";

/** The sox effect chain for one segment; sox resamples with its high-quality ("-v") band-limited filter. */
export function soxEffects(speaker: Speaker, aug: Augmentation): string[] {
  const fx: string[] = [];
  if (speaker.tempo !== undefined && speaker.tempo !== 1) fx.push("tempo", "-s", String(speaker.tempo));
  if (speaker.cents) fx.push("pitch", String(speaker.cents));
  if (aug.speed !== 1) fx.push("speed", String(aug.speed));
  if (aug.reverb) {
    // Padding lets the reverberation tail ring out inside the segment instead of being cut.
    fx.push("pad", "0", "0.3", "reverb", String(aug.reverb.reverberance), String(aug.reverb.hfDamping), String(aug.reverb.roomScale));
  }
  fx.push("rate", "-v", String(sampleRate));
  return fx;
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

/** Mean power of the samples in [start, end) (for SNR). */
export function power(x: Float32Array, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return end > start ? s / (end - start) : 0;
}

/**
 * Adds noise over the whole talk at `snrDb` below `speechPower` (the mean power of the speech
 * segments, not of the pauses). Pink noise by Paul Kellet's economy filter (three first-order
 * sections, ±0.05 dB above 9.2 Hz at 44.1 kHz); brown noise as leaky integrated white noise.
 */
export function addNoise(x: Float32Array, speechPower: number, snrDb: number, color: NoiseColor, rng: Rng): void {
  const noise = new Float32Array(x.length);
  let b0 = 0, b1 = 0, b2 = 0, brown = 0;
  for (let i = 0; i < x.length; i++) {
    const w = rng.normal();
    if (color === "white") noise[i] = w;
    else if (color === "pink") {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      noise[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      brown = 0.995 * brown + w * 0.1;
      noise[i] = brown;
    }
  }
  const np = power(noise);
  if (np === 0 || speechPower === 0) return;
  const gain = Math.sqrt(speechPower / Math.pow(10, snrDb / 10) / np);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + gain * noise[i]!;
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
  wavHeader(PCM16_MONO(rate), x.length * 2).copy(buf, 0);
  // Buffer.alloc gives a fresh, aligned ArrayBuffer, so the samples can be written through a view.
  const pcm = new Int16Array(buf.buffer, buf.byteOffset + 44, x.length);
  for (let i = 0; i < x.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767);
  return buf;
}
