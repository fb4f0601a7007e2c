// Band-limited sample-rate conversion: each output sample is the input convolved with a
// Kaiser-windowed sinc low-pass centred on the output instant (J. O. Smith, "Digital Audio
// Resampling", https://ccrma.stanford.edu/~jos/resample/). The cutoff sits a little below the
// lower of the two Nyquist frequencies so that downsampling does not alias. For rational ratios
// with a moderate number of phases the filter is tabulated once per phase (polyphase); otherwise
// taps are computed on the fly. Streaming: `push` blocks, then `flush`; output length is exactly
// ceil(inputLength · outRate / inRate).

/** Zero crossings of the sinc on each side of the centre (filter length ≈ 2·ZEROS / cutoff). */
const ZEROS = 40;
/** Kaiser β: ≈ 90 dB stop-band attenuation (measured: aliases of 8.6–20 kHz input at −108 dB). */
const KAISER_BETA = 9;
/** Cutoff as a fraction of the lower Nyquist frequency (passband flat to ≈ 7 kHz at 16 kHz out). */
const ROLLOFF = 0.93;
/** Largest polyphase table (coefficients) worth precomputing: 32 MB of float64. */
const MAX_TABLE = 4_000_000;

function besselI0(x: number): number {
  // Power series; converges quickly for the β used here.
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class Resampler {
  private readonly inStep: number;
  private readonly outStep: number;
  /** Cutoff in cycles per input sample (≤ 0.5). */
  private readonly cutoff: number;
  /** Taps on each side of the centre, in input samples. */
  private readonly halfWidth: number;
  private readonly i0Beta: number;
  private readonly table: Float64Array | null;
  private readonly tapsPerPhase: number;
  /** Input not yet fully consumed; `buffer[0]` is input sample number `bufferStart`. */
  private buffer = new Float32Array(0);
  private bufferStart = 0;
  private totalIn = 0;
  /** Index of the next output sample. */
  private nextOut = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
  ) {
    for (const [name, rate] of [["input", inRate], ["output", outRate]] as const) {
      if (!Number.isInteger(rate) || rate < 2) throw new RangeError(`Resampler: bad ${name} rate ${rate} Hz`);
    }
    const g = gcd(inRate, outRate);
    this.inStep = inRate / g;
    this.outStep = outRate / g;
    this.cutoff = (0.5 * ROLLOFF * Math.min(inRate, outRate)) / inRate;
    this.halfWidth = Math.ceil(ZEROS / (2 * this.cutoff));
    this.i0Beta = besselI0(KAISER_BETA);
    this.tapsPerPhase = 2 * this.halfWidth + 1;
    // Phase p (0 ≤ p < outStep) is the fractional input position p / outStep.
    if (this.outStep * this.tapsPerPhase <= MAX_TABLE) {
      this.table = new Float64Array(this.outStep * this.tapsPerPhase);
      for (let p = 0; p < this.outStep; p++) this.fillTaps(p / this.outStep, this.table, p * this.tapsPerPhase);
    } else {
      this.table = null;
    }
  }

  /** Taps for input samples floor(x) − halfWidth … floor(x) + halfWidth where frac = x − floor(x). */
  private fillTaps(frac: number, into: Float64Array, offset: number): void {
    const fc = this.cutoff;
    const hw = this.halfWidth;
    for (let i = 0; i < this.tapsPerPhase; i++) {
      const t = i - hw - frac; // input sample minus output position, in input samples
      const r = t / (hw + 1);
      if (Math.abs(r) >= 1) {
        into[offset + i] = 0;
        continue;
      }
      const x = 2 * fc * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const kaiser = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / this.i0Beta;
      into[offset + i] = 2 * fc * sinc * kaiser;
    }
  }

  /** Total number of output samples for `inputLength` input samples. */
  static outputLength(inputLength: number, inRate: number, outRate: number): number {
    return Math.ceil((inputLength * outRate) / inRate);
  }

  /** Feeds a block of input; returns the output samples that are now fully determined. */
  push(block: Float32Array): Float32Array {
    if (block.length === 0) return new Float32Array(0);
    const merged = new Float32Array(this.buffer.length + block.length);
    merged.set(this.buffer);
    merged.set(block, this.buffer.length);
    this.buffer = merged;
    this.totalIn += block.length;
    // Output n needs input up to floor(n·inStep/outStep) + halfWidth.
    const available = this.bufferStart + this.buffer.length;
    const lastComplete = Math.floor(((available - 1 - this.halfWidth) * this.outStep) / this.inStep);
    return this.produce(lastComplete + 1);
  }

  /** Ends the stream (input beyond the end counts as zeros); returns the remaining output. */
  flush(): Float32Array {
    const out = this.produce(Resampler.outputLength(this.totalIn, this.inRate, this.outRate));
    this.buffer = new Float32Array(0);
    return out;
  }

  /** Computes outputs nextOut … end − 1 and drops the input no later output needs. */
  private produce(end: number): Float32Array {
    const count = Math.max(0, end - this.nextOut);
    const out = new Float32Array(count);
    const hw = this.halfWidth;
    const taps = this.tapsPerPhase;
    const scratch = this.table === null ? new Float64Array(taps) : null;
    const buf = this.buffer;
    const base = this.bufferStart;
    for (let i = 0; i < count; i++) {
      const n = this.nextOut + i;
      // Input position n·inStep/outStep = whole + phase/outStep, in exact integer arithmetic.
      const num = n * this.inStep;
      const whole = Math.floor(num / this.outStep);
      const phase = num - whole * this.outStep;
      let coeffs: Float64Array;
      let offset: number;
      if (this.table !== null) {
        coeffs = this.table;
        offset = phase * taps;
      } else {
        this.fillTaps(phase / this.outStep, scratch!, 0);
        coeffs = scratch!;
        offset = 0;
      }
      const first = whole - hw - base;
      const lo = Math.max(0, -first);
      const hi = Math.min(taps, buf.length - first);
      let acc = 0;
      for (let k = lo; k < hi; k++) acc += coeffs[offset + k]! * buf[first + k]!;
      out[i] = acc;
    }
    this.nextOut += count;
    // Keep only input at or after the first tap of the next output.
    const keepFrom = Math.floor((this.nextOut * this.inStep) / this.outStep) - hw;
    const drop = Math.min(buf.length, Math.max(0, keepFrom - base));
    if (drop > 0) {
      this.buffer = buf.slice(drop);
      this.bufferStart += drop;
    }
    return out;
  }
}

/** Resamples a whole signal (streaming internally, so the input is not copied as a whole). */
export function resample(samples: Float32Array, inRate: number, outRate: number): Float32Array {
  if (inRate === outRate) return samples;
  const resampler = new Resampler(inRate, outRate);
  const out = new Float32Array(Resampler.outputLength(samples.length, inRate, outRate));
  let written = 0;
  const blockSize = 1 << 16;
  for (let start = 0; start < samples.length; start += blockSize) {
    const part = resampler.push(samples.subarray(start, Math.min(samples.length, start + blockSize)));
    out.set(part, written);
    written += part.length;
  }
  out.set(resampler.flush(), written);
  return out;
}
