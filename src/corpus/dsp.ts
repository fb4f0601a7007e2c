// Signal-processing pieces of the acoustic augmenter: FFT convolution by overlap-add (with the complex
// FFT of src/audio/fft.ts), biquad filters, and signal power. Everything runs in float64 and is
// deterministic, so an augmented talk is identical wherever it is made.
import { fftOfSize } from "../audio/fft.ts";

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/**
 * y[n] = Σ_k h[k] · x[n + align − k] for n in [0, x.length): the convolution of x with the impulse
 * response h, shifted left by `align` samples (the index of h's direct path) so that the output keeps
 * the input's timing, and cut to the input's length. Overlap-add with FFT blocks; two real input
 * blocks ride in one complex transform (real and imaginary parts), since h is real.
 */
export function convolveAligned(x: Float32Array, h: Float32Array, align: number): Float32Array {
  const out = new Float32Array(x.length);
  if (x.length === 0 || h.length === 0) return out;
  const n = nextPow2(Math.max(4 * h.length, 4096));
  const block = n - h.length + 1;
  const fft = fftOfSize(n);
  const hr = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < h.length; i++) hr[i] = h[i]!;
  fft.transform(hr, hi);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  // Full convolution index m = n_out + align; a block starting at input s contributes to m in [s, s + n).
  const add = (buf: Float64Array, start: number) => {
    const from = Math.max(0, align - start);
    const to = Math.min(n, x.length + align - start);
    for (let i = from; i < to; i++) out[start + i - align] = out[start + i - align]! + buf[i]!;
  };
  for (let s = 0; s < x.length; s += 2 * block) {
    re.fill(0);
    im.fill(0);
    const s2 = s + block;
    for (let i = 0; i < block && s + i < x.length; i++) re[i] = x[s + i]!;
    for (let i = 0; i < block && s2 + i < x.length; i++) im[i] = x[s2 + i]!;
    fft.transform(re, im);
    for (let k = 0; k < n; k++) {
      const a = re[k]!;
      const b = im[k]!;
      re[k] = a * hr[k]! - b * hi[k]!;
      im[k] = a * hi[k]! + b * hr[k]!;
    }
    fft.transform(re, im, true);
    add(re, s);
    if (s2 < x.length) add(im, s2);
  }
  return out;
}

/** Direct-form-I biquad (R. Bristow-Johnson, "Audio EQ Cookbook"), coefficients normalised by a0. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Butterworth-type high- or low-pass section at `hz` with quality q (0.7071: Butterworth 2nd order). */
export function biquad(kind: "lowpass" | "highpass", hz: number, rate: number, q = Math.SQRT1_2): Biquad {
  const w = (2 * Math.PI * hz) / rate;
  const cw = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  const b1 = kind === "lowpass" ? 1 - cw : -(1 + cw);
  const b0 = kind === "lowpass" ? (1 - cw) / 2 : (1 + cw) / 2;
  return { b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: (-2 * cw) / a0, a2: (1 - alpha) / a0 };
}

/** Q of the two sections of a 4th-order Butterworth filter (poles at 22.5° and 67.5°). */
export const BUTTERWORTH4_Q = [1 / (2 * Math.cos(Math.PI / 8)), 1 / (2 * Math.cos((3 * Math.PI) / 8))];

/** Runs the sections one after another over x, in place. */
export function filterInPlace(x: Float32Array | Float64Array, sections: readonly Biquad[]): void {
  for (const f of sections) {
    let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]!;
      const y0 = f.b0 * x0 + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
      x2 = x1;
      x1 = x0;
      y2 = y1;
      y1 = y0;
      x[i] = y0;
    }
  }
}

/** Forward then backward through the sections: zero phase (no delay), squared magnitude response. */
export function filtfiltInPlace(x: Float32Array | Float64Array, sections: readonly Biquad[]): void {
  filterInPlace(x, sections);
  x.reverse();
  filterInPlace(x, sections);
  x.reverse();
}

/** Mean power of x over [start, end). */
export function meanPower(x: ArrayLike<number>, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return end > start ? s / (end - start) : 0;
}
