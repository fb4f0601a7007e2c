// Vocal-tract-length perturbation on the waveform. VTLP (N. Jaitly and G. E. Hinton, "Vocal Tract
// Length Perturbation (VTLP) improves speech recognition", ICML 2013 WDLASL) warps the frequency axis
// by a factor α (0.9-1.1) to imitate speakers with shorter or longer vocal tracts. Here only the
// spectral envelope (the formants) is warped and the harmonics (the pitch, which sox's tempo/pitch
// already vary) stay: each frame of a short-time Fourier transform (512 samples, hop 256, square-root
// Hann windows at analysis and synthesis, whose product overlap-adds to exactly 1) is multiplied by
// exp(E(f/α) − E(f)), E being the log magnitude smoothed across frequency (a triangle of ±250 Hz at
// 16 kHz, about two harmonics of a low voice each side, so that it follows the formants rather than the
// harmonics). The smoothing flattens formant peaks, so a formant moves by most of the warp, not all of
// it (a 10% warp moves a formant's centroid by 5-9% in test/corpus/augment.test.ts's vowels).
// Duration and timing are unchanged, so segment times stay valid; α = 1 returns the input.
import { fftOfSize } from "../audio/fft.ts";

const N = 512;
const HOP = N / 2;
/** Half-width, in bins, of each of the two box passes of the envelope smoothing. */
const SMOOTH = 4;
/** Largest boost or cut of one bin (±20 dB): a deep spectral valley must not be blown up. */
const MAX_LOG_GAIN = Math.log(10);

let window: Float64Array | null = null;
function sqrtHann(): Float64Array {
  if (!window) window = Float64Array.from({ length: N }, (_, n) => Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N)));
  return window;
}

/** Box smoothing with a running sum, edges clamped. */
function boxSmooth(src: Float64Array, dst: Float64Array, half: number): void {
  const n = src.length;
  let sum = 0;
  for (let i = -half; i <= half; i++) sum += src[Math.min(n - 1, Math.max(0, i))]!;
  for (let i = 0; i < n; i++) {
    dst[i] = sum / (2 * half + 1);
    sum += src[Math.min(n - 1, i + half + 1)]! - src[Math.max(0, i - half)]!;
  }
}

/** Warps the envelope of one half spectrum (bins 0..N/2 of re/im) in place. */
function warpSpectrum(re: Float64Array, im: Float64Array, alpha: number, logMag: Float64Array, tmp: Float64Array, env: Float64Array): void {
  const bins = N / 2 + 1;
  for (let k = 0; k < bins; k++) logMag[k] = 0.5 * Math.log(re[k]! * re[k]! + im[k]! * im[k]! + 1e-20);
  boxSmooth(logMag, tmp, SMOOTH);
  boxSmooth(tmp, env, SMOOTH);
  for (let k = 0; k < bins; k++) {
    const src = Math.min(bins - 1, k / alpha);
    const i0 = Math.floor(src);
    const i1 = Math.min(bins - 1, i0 + 1);
    const warped = env[i0]! + (env[i1]! - env[i0]!) * (src - i0);
    const g = Math.exp(Math.max(-MAX_LOG_GAIN, Math.min(MAX_LOG_GAIN, warped - env[k]!)));
    re[k] = re[k]! * g;
    im[k] = im[k]! * g;
  }
}

/** The formant-warped signal (same length); `alpha` > 1 moves formants up (a shorter vocal tract). */
export function vtlp(x: Float32Array, alpha: number): Float32Array {
  if (alpha === 1 || x.length === 0) return Float32Array.from(x);
  const out = new Float64Array(x.length);
  const w = sqrtHann();
  const fft = fftOfSize(N);
  const re = new Float64Array(N);
  const im = new Float64Array(N);
  const ar = new Float64Array(N), ai = new Float64Array(N), br = new Float64Array(N), bi = new Float64Array(N);
  const logMag = new Float64Array(N / 2 + 1), tmp = new Float64Array(N / 2 + 1), env = new Float64Array(N / 2 + 1);
  // Frames start at −HOP, 0, HOP, ...: every sample is covered by two frames. Two real frames share
  // one complex transform (frame a in the real part, frame b in the imaginary part).
  const starts: number[] = [];
  for (let s = -HOP; s < x.length; s += HOP) starts.push(s);
  for (let f = 0; f < starts.length; f += 2) {
    const sa = starts[f]!;
    const sb = f + 1 < starts.length ? starts[f + 1]! : null;
    for (let n = 0; n < N; n++) {
      const ia = sa + n;
      re[n] = ia >= 0 && ia < x.length ? x[ia]! * w[n]! : 0;
      const ib = sb === null ? -1 : sb + n;
      im[n] = ib >= 0 && ib < x.length ? x[ib]! * w[n]! : 0;
    }
    fft.transform(re, im);
    // Split: A[k] = (Z[k] + conj Z[N−k]) / 2, B[k] = (Z[k] − conj Z[N−k]) / 2i.
    for (let k = 0; k <= N / 2; k++) {
      const m = (N - k) % N;
      ar[k] = 0.5 * (re[k]! + re[m]!);
      ai[k] = 0.5 * (im[k]! - im[m]!);
      br[k] = 0.5 * (im[k]! + im[m]!);
      bi[k] = -0.5 * (re[k]! - re[m]!);
    }
    warpSpectrum(ar, ai, alpha, logMag, tmp, env);
    warpSpectrum(br, bi, alpha, logMag, tmp, env);
    // Recombine Z' = A' + i B' over the full (Hermitian) spectra; the inverse's real part is frame a.
    for (let k = 0; k < N; k++) {
      const h = k <= N / 2 ? k : N - k;
      const sgn = k <= N / 2 ? 1 : -1; // bins above N/2 are the conjugates
      const aR = ar[h]!, aI = sgn * ai[h]!, bR = br[h]!, bI = sgn * bi[h]!;
      re[k] = aR - bI;
      im[k] = aI + bR;
    }
    fft.transform(re, im, true);
    for (let n = 0; n < N; n++) {
      const ia = sa + n;
      if (ia >= 0 && ia < x.length) out[ia] = out[ia]! + re[n]! * w[n]!;
      if (sb !== null) {
        const ib = sb + n;
        if (ib >= 0 && ib < x.length) out[ib] = out[ib]! + im[n]! * w[n]!;
      }
    }
  }
  return Float32Array.from(out);
}
