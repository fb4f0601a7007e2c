// Power spectrum of a real frame through a radix-2 FFT, the hot loop of the fbank. A real input of
// size N is packed into a complex sequence of size N/2 (even samples real, odd samples imaginary),
// transformed, and split into the N/2 + 1 bins of the real spectrum (the standard "two-for-one"
// real-FFT identity, e.g. Press et al., Numerical Recipes §12.3). Everything is float64.

export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly bitReverse: Uint32Array;
  /** Twiddles of the stages of length ≥ 8, stage after stage: cos/sin of −2πk/len, k < len/2. */
  private readonly stageCos: Float64Array;
  private readonly stageSin: Float64Array;
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
    const bits = Math.log2(half);
    this.bitReverse = new Uint32Array(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReverse[i] = r;
    }
    this.stageCos = new Float64Array(Math.max(1, half));
    this.stageSin = new Float64Array(Math.max(1, half));
    for (let len = 8, at = 0; len <= half; len <<= 1) {
      for (let k = 0; k < len / 2; k++, at++) {
        this.stageCos[at] = Math.cos((-2 * Math.PI * k) / len);
        this.stageSin[at] = Math.sin((-2 * Math.PI * k) / len);
      }
    }
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
    const { half, re, im, bitReverse } = this;
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i]!;
      re[j] = input[2 * i]!;
      im[j] = input[2 * i + 1]!;
    }
    // Iterative radix-2 decimation in time. The first two stages have trivial twiddles (1, −i) and
    // are fused; later stages read their twiddles contiguously (this loop is most of the fbank's time).
    if (half >= 4) {
      for (let a = 0; a < half; a += 4) {
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
        // (r3 + i·i3)·(−i) = i3 − i·r3
        re[a + 1] = r1 + i3;
        im[a + 1] = i1 - r3;
        re[a + 3] = r1 - i3;
        im[a + 3] = i1 + r3;
      }
    } else {
      for (let a = 0; a < half; a += 2) {
        const br = re[a + 1]!;
        const bi = im[a + 1]!;
        re[a + 1] = re[a]! - br;
        im[a + 1] = im[a]! - bi;
        re[a] = re[a]! + br;
        im[a] = im[a]! + bi;
      }
    }
    const { stageCos, stageSin } = this;
    for (let len = 8, at = 0; len <= half; at += len >> 1, len <<= 1) {
      const halfLen = len >> 1;
      for (let k = 0; k < halfLen; k++) {
        const wr = stageCos[at + k]!;
        const wi = stageSin[at + k]!;
        for (let a = k; a < half; a += len) {
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
