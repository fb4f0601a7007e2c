// The radix-2 FFT of nast: a complex transform with its inverse (ComplexFft: convolution and warping in the
// acoustic augmenter, src/corpus), and on top of it the power spectrum of a real frame (RealFft: the hot
// loop of the fbank). A real input of size N is packed into a complex sequence of size N/2 (even samples
// real, odd samples imaginary), transformed, and split into the N/2 + 1 bins of the real spectrum (the
// standard "two-for-one" real-FFT identity, e.g. Press et al., Numerical Recipes §12.3). Everything is
// float64 and deterministic (V8's Math.sin/cos are the same on every machine), so features and augmented
// talks are identical wherever they are made.

/** In-place iterative radix-2 decimation-in-time FFT of size n (a power of two >= 2). */
export class ComplexFft {
  readonly size: number;
  /** Where input i goes before the butterflies. */
  readonly bitReverse: Uint32Array;
  /** Twiddles of the stages of length ≥ 8, stage after stage: cos/sin of −2πk/len, k < len/2, read in order. */
  private readonly stageCos: Float64Array;
  private readonly stageSin: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`ComplexFft: size must be a power of two >= 2, got ${size}`);
    this.size = size;
    const bits = Math.log2(size);
    this.bitReverse = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReverse[i] = r;
    }
    this.stageCos = new Float64Array(Math.max(1, size));
    this.stageSin = new Float64Array(Math.max(1, size));
    for (let len = 8, at = 0; len <= size; len <<= 1) {
      for (let k = 0; k < len / 2; k++, at++) {
        this.stageCos[at] = Math.cos((-2 * Math.PI * k) / len);
        this.stageSin[at] = Math.sin((-2 * Math.PI * k) / len);
      }
    }
  }

  /** Forward transform (e^{-2πi kn/N}); `inverse` gives e^{+2πi kn/N} scaled by 1/N. */
  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.size;
    const rev = this.bitReverse;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        let t = re[i]!;
        re[i] = re[j]!;
        re[j] = t;
        t = im[i]!;
        im[i] = im[j]!;
        im[j] = t;
      }
    }
    this.butterflies(re, im, inverse);
    if (inverse) {
      const s = 1 / n;
      for (let i = 0; i < n; i++) {
        re[i] = re[i]! * s;
        im[i] = im[i]! * s;
      }
    }
  }

  /**
   * The butterflies of an input already in bit-reversed order. The first two stages have trivial twiddles
   * (1, ∓i) and are fused; later stages read their twiddles contiguously, in groups in memory order (far
   * fewer cache misses on large sizes than looping over the twiddle first).
   */
  butterflies(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.size;
    if (n >= 4) {
      // The odd half of each 4-point group turns by −i (forward) or +i (inverse).
      const s = inverse ? -1 : 1;
      for (let a = 0; a < n; a += 4) {
        const r0 = re[a]! + re[a + 1]!;
        const i0 = im[a]! + im[a + 1]!;
        const r1 = re[a]! - re[a + 1]!;
        const i1 = im[a]! - im[a + 1]!;
        const r2 = re[a + 2]! + re[a + 3]!;
        const i2 = im[a + 2]! + im[a + 3]!;
        const r3 = re[a + 2]! - re[a + 3]!;
        const i3 = im[a + 2]! - im[a + 3]!;
        re[a] = r0 + r2;
        im[a] = i0 + i2;
        re[a + 2] = r0 - r2;
        im[a + 2] = i0 - i2;
        // forward: (r3 + i·i3)·(−i) = i3 − i·r3; inverse: (r3 + i·i3)·i = −i3 + i·r3
        re[a + 1] = r1 + s * i3;
        im[a + 1] = i1 - s * r3;
        re[a + 3] = r1 - s * i3;
        im[a + 3] = i1 + s * r3;
      }
    } else {
      const br = re[1]!;
      const bi = im[1]!;
      re[1] = re[0]! - br;
      im[1] = im[0]! - bi;
      re[0] = re[0]! + br;
      im[0] = im[0]! + bi;
    }
    const { stageCos, stageSin } = this;
    const sign = inverse ? -1 : 1;
    let len = 8;
    let at = 0;
    // Two stages at a time (lengths h and 2h): each element is read and written once per pair instead of once per
    // stage. The arithmetic is the two stages' own, in their order, so the results are the same to the bit.
    for (; 2 * len <= n; at += len + (len >> 1), len <<= 2) {
      const h = len;
      const q = h >> 1; // a quarter of the second stage's length
      const atH = at;
      const atL = at + q;
      for (let a0 = 0; a0 < n; a0 += 2 * h) {
        for (let k = 0; k < q; k++) {
          const w1r = stageCos[atH + k]!;
          const w1i = sign * stageSin[atH + k]!;
          const w2r = stageCos[atL + k]!;
          const w2i = sign * stageSin[atL + k]!;
          const w3r = stageCos[atL + k + q]!;
          const w3i = sign * stageSin[atL + k + q]!;
          const p0 = a0 + k;
          const p1 = p0 + q;
          const p2 = p0 + h;
          const p3 = p2 + q;
          // Stage h: (p0, p1) and (p2, p3), twiddle w1.
          let br = re[p1]!;
          let bi = im[p1]!;
          let tr = br * w1r - bi * w1i;
          let ti = br * w1i + bi * w1r;
          let ar = re[p0]!;
          let ai = im[p0]!;
          const y1r = ar - tr;
          const y1i = ai - ti;
          const y0r = ar + tr;
          const y0i = ai + ti;
          br = re[p3]!;
          bi = im[p3]!;
          tr = br * w1r - bi * w1i;
          ti = br * w1i + bi * w1r;
          ar = re[p2]!;
          ai = im[p2]!;
          const y3r = ar - tr;
          const y3i = ai - ti;
          const y2r = ar + tr;
          const y2i = ai + ti;
          // Stage 2h: (p0, p2), twiddle w2; (p1, p3), twiddle w3.
          tr = y2r * w2r - y2i * w2i;
          ti = y2r * w2i + y2i * w2r;
          re[p2] = y0r - tr;
          im[p2] = y0i - ti;
          re[p0] = y0r + tr;
          im[p0] = y0i + ti;
          tr = y3r * w3r - y3i * w3i;
          ti = y3r * w3i + y3i * w3r;
          re[p3] = y1r - tr;
          im[p3] = y1i - ti;
          re[p1] = y1r + tr;
          im[p1] = y1i + ti;
        }
      }
    }
    // A last stage alone when their number is odd.
    for (; len <= n; at += len >> 1, len <<= 1) {
      const halfLen = len >> 1;
      for (let a0 = 0; a0 < n; a0 += len) {
        for (let k = 0; k < halfLen; k++) {
          const wr = stageCos[at + k]!;
          const wi = sign * stageSin[at + k]!;
          const a = a0 + k;
          const b = a + halfLen;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
  }
}

const ffts = new Map<number, ComplexFft>();
/** One FFT object per size, reused (the twiddle tables cost more than a transform of small sizes). */
export function fftOfSize(n: number): ComplexFft {
  let f = ffts.get(n);
  if (!f) ffts.set(n, (f = new ComplexFft(n)));
  return f;
}

/** The power spectrum of real frames of one size: the complex FFT of half the size, then the split. */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly fft: ComplexFft;
  /** cos/sin of −2πk/size for the real-spectrum split. */
  private readonly cosFull: Float64Array;
  private readonly sinFull: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft: size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    const half = size / 2;
    this.half = half;
    this.fft = new ComplexFft(half);
    this.cosFull = new Float64Array(half + 1);
    this.sinFull = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.cosFull[k] = Math.cos((-2 * Math.PI * k) / size);
      this.sinFull[k] = Math.sin((-2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
  }

  /**
   * |X[k]|² for k = 0..size/2 of the real sequence `input` (length `size`), written to `power`
   * (length ≥ size/2 + 1). `input` is not modified.
   */
  powerSpectrum(input: Float64Array, power: Float64Array): void {
    const { half, re, im } = this;
    const bitReverse = this.fft.bitReverse;
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i]!;
      re[j] = input[2 * i]!;
      im[j] = input[2 * i + 1]!;
    }
    this.fft.butterflies(re, im);
    // Split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h−k]) / 2, O = (Z[k] − conj Z[h−k]) / 2i.
    for (let k = 0; k <= half; k++) {
      const k1 = k === half ? 0 : k;
      const k2 = k === 0 ? 0 : half - k;
      const zr = re[k1]!;
      const zi = im[k1]!;
      const cr = re[k2]!;
      const ci = -im[k2]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // (Z − conj) / 2i: (a + ib) / 2i = (b − ia) / 2
      const dr = zr - cr;
      const di = zi - ci;
      const or = 0.5 * di;
      const oi = -0.5 * dr;
      const wr = this.cosFull[k]!;
      const wi = this.sinFull[k]!;
      const xr = er + (or * wr - oi * wi);
      const xi = ei + (or * wi + oi * wr);
      power[k] = xr * xr + xi * xi;
    }
  }
}
