// Coloured noise (white, pink, brown) added at an SNR against the speech: the corpus's first additive
// source, kept as one of the augmenter's (augment.ts) beside recorded noise, music and babble.
import type { Rng } from "./rng.ts";

export type NoiseColor = "white" | "pink" | "brown";

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
