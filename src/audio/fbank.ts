// 80-bin log-mel filterbank computed exactly as torchaudio.compliance.kaldi.fbank (pytorch/audio
// src/torchaudio/compliance/kaldi.py) with fairseq's S2T settings (docs/design.md §7.2): input scaled to the
// int16 range, dither 0, 25 ms Povey window, 10 ms shift, DC removal, pre-emphasis 0.97, snip_edges, power
// spectrum, mel banks from 20 Hz to Nyquist, natural log floored at float32 epsilon. Arithmetic is float64
// (torchaudio runs in float32; the two differ by < 3e-4, see test/vectors/fbank-vectors.json).
import { RealFft } from "./fft.ts";

export const FBANK_DIM = 80;
/** fairseq multiplies soundfile's [-1, 1) floats by 2^15 before calling torchaudio. */
const INT16_SCALE = 32768;
/** torch.finfo(torch.float32).eps: the floor of the mel energies before the log. */
const FLOAT32_EPS = 1.1920928955078125e-7;
const PREEMPHASIS = 0.97;
const LOW_FREQ_HZ = 20;

export interface Fbank {
  /** Row-major [frames, dim] log-mel energies. */
  data: Float32Array;
  frames: number;
  dim: number;
}

/** Kaldi's mel scale (natural log form). */
function mel(freqHz: number): number {
  return 1127 * Math.log(1 + freqHz / 700);
}

/** Everything that depends only on the sample rate: window, FFT, sparse mel weights. */
class FbankPlan {
  readonly windowSize: number;
  readonly windowShift: number;
  readonly window: Float64Array;
  readonly fft: RealFft;
  /** For mel bin b: weights of FFT bins melStart[b] .. melStart[b] + melWeights[b].length − 1. */
  readonly melStart: Int32Array;
  readonly melWeights: Float64Array[];
  readonly frame: Float64Array;
  readonly power: Float64Array;

  constructor(sampleRate: number) {
    // torchaudio: int(sample_frequency * ms * 0.001); round_to_power_of_two.
    this.windowSize = Math.trunc(sampleRate * 25 * 0.001);
    this.windowShift = Math.trunc(sampleRate * 10 * 0.001);
    if (this.windowSize < 2) throw new RangeError(`fbank: sample rate ${sampleRate} Hz is too low`);
    let padded = 1;
    while (padded < this.windowSize) padded *= 2;
    this.fft = new RealFft(Math.max(padded, 4));
    // Povey window: symmetric Hann (periodic=False) raised to 0.85.
    this.window = new Float64Array(this.windowSize);
    for (let j = 0; j < this.windowSize; j++) {
      this.window[j] = Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * j) / (this.windowSize - 1)), 0.85);
    }
    // Triangular mel banks over FFT bins 0 .. padded/2 − 1 (the Nyquist bin gets weight 0).
    const numFftBins = this.fft.size / 2;
    const binWidth = sampleRate / this.fft.size;
    const melLow = mel(LOW_FREQ_HZ);
    const melHigh = mel(sampleRate / 2);
    const delta = (melHigh - melLow) / (FBANK_DIM + 1);
    // Each FFT bin's mel value, once (every bank reads all of them: 80 × 256 logs otherwise, a cold start's cost).
    const binMel = Float64Array.from({ length: numFftBins }, (_, k) => mel(binWidth * k));
    this.melStart = new Int32Array(FBANK_DIM);
    this.melWeights = [];
    for (let b = 0; b < FBANK_DIM; b++) {
      const left = melLow + b * delta;
      const center = melLow + (b + 1) * delta;
      const right = melLow + (b + 2) * delta;
      const weights: number[] = [];
      let start = -1;
      for (let k = 0; k < numFftBins; k++) {
        const m = binMel[k]!;
        const w = Math.max(0, Math.min((m - left) / (center - left), (right - m) / (right - center)));
        if (w > 0) {
          if (start < 0) start = k;
          // Fill interior zeros (none occur for a triangle) so the run stays contiguous.
          while (start + weights.length < k) weights.push(0);
          weights.push(w);
        }
      }
      this.melStart[b] = Math.max(start, 0);
      this.melWeights.push(Float64Array.from(weights));
    }
    this.frame = new Float64Array(this.fft.size);
    this.power = new Float64Array(this.fft.size / 2 + 1);
  }

  /** Number of frames for n samples with snip_edges (0 when shorter than one window). */
  numFrames(n: number): number {
    return n < this.windowSize ? 0 : 1 + Math.floor((n - this.windowSize) / this.windowShift);
  }
}

const plans = new Map<number, FbankPlan>();

function planFor(sampleRate: number): FbankPlan {
  let plan = plans.get(sampleRate);
  if (plan === undefined) {
    plan = new FbankPlan(sampleRate);
    plans.set(sampleRate, plan);
  }
  return plan;
}

/** Number of fbank frames `fbank` produces for `numSamples` samples (0 below one 25 ms window). */
export function fbankFrameCount(numSamples: number, sampleRate = 16000): number {
  return planFor(sampleRate).numFrames(numSamples);
}

/**
 * Log-mel fbank of mono samples in [-1, 1] (scaled to int16 range inside). Inputs shorter than one
 * window give 0 frames (torchaudio throws there; callers filter such utterances anyway).
 * `out`, if given, receives the frames (length ≥ frames·80), e.g. a slice of a feature store buffer.
 */
export function fbank(samples: Float32Array, sampleRate = 16000, out?: Float32Array): Fbank {
  const plan = planFor(sampleRate);
  const frames = plan.numFrames(samples.length);
  const data = out ?? new Float32Array(frames * FBANK_DIM);
  if (data.length < frames * FBANK_DIM) throw new RangeError(`fbank: output buffer too small for ${frames} frames`);
  const { windowSize, windowShift, window, frame, power, fft, melStart, melWeights } = plan;
  for (let f = 0; f < frames; f++) {
    const offset = f * windowShift;
    let sum = 0;
    for (let j = 0; j < windowSize; j++) {
      const v = samples[offset + j]! * INT16_SCALE;
      frame[j] = v;
      sum += v;
    }
    const mean = sum / windowSize;
    // Remove DC, then pre-emphasis with replicate padding (s'[0] = s[0] − 0.97·s[0]), then window;
    // walk backwards so each step still sees the unmodified previous sample.
    for (let j = windowSize - 1; j > 0; j--) {
      frame[j] = (frame[j]! - mean - PREEMPHASIS * (frame[j - 1]! - mean)) * window[j]!;
    }
    frame[0] = (frame[0]! - mean) * (1 - PREEMPHASIS) * window[0]!;
    frame.fill(0, windowSize);
    fft.powerSpectrum(frame, power);
    const row = f * FBANK_DIM;
    for (let b = 0; b < FBANK_DIM; b++) {
      const weights = melWeights[b]!;
      const start = melStart[b]!;
      let energy = 0;
      for (let i = 0; i < weights.length; i++) energy += weights[i]! * power[start + i]!;
      data[row + b] = Math.log(energy > FLOAT32_EPS ? energy : FLOAT32_EPS);
    }
  }
  return { data, frames, dim: FBANK_DIM };
}
