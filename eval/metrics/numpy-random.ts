// The resampling indices numpy draws for sacreBLEU's bootstrap tests, bit for bit, so that our p-values and
// confidence intervals equal sacreBLEU's: `np.random.default_rng(12345).choice(n, size=(S, n), replace=True)`
// (sacrebleu/significance.py). That is numpy's SeedSequence (after M. O'Neill's seed_seq_fe) feeding PCG64
// (XSL-RR 128/64), and Lemire's bounded-integer method on 32-bit draws. Written from the published algorithms;
// checked against numpy's own output in test/eval/numpy-random.test.ts.

const MASK32 = 0xffffffffn;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;

// SeedSequence constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

const mul32 = (a: number, b: number): number => Math.imul(a, b) >>> 0;

/** The 32-bit words of a non-negative integer seed, least significant first. */
function seedWords(seed: bigint): number[] {
  const words: number[] = [];
  do {
    words.push(Number(seed & MASK32));
    seed >>= 32n;
  } while (seed > 0n);
  return words;
}

/** numpy SeedSequence(seed).generate_state(nWords, uint64). */
export function seedSequenceState(seed: number | bigint, nWords64: number): bigint[] {
  const entropy = seedWords(BigInt(seed));
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    value = (value ^ hashConst) >>> 0;
    hashConst = mul32(hashConst, MULT_A);
    value = mul32(value, hashConst);
    return (value ^ (value >>> XSHIFT)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (mul32(MIX_MULT_L, x) - mul32(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> XSHIFT)) >>> 0;
  };
  const pool = new Array<number>(POOL_SIZE).fill(0);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? (entropy[i] as number) : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst] as number, hashmix(pool[src] as number));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst] as number, hashmix(entropy[src] as number));
  }
  // generate_state: cycle through the pool, hashing with a second constant stream.
  let hashB = INIT_B;
  const words32: number[] = [];
  for (let i = 0; i < 2 * nWords64; i++) {
    let v = ((pool[i % POOL_SIZE] as number) ^ hashB) >>> 0;
    hashB = mul32(hashB, MULT_B);
    v = mul32(v, hashB);
    words32.push((v ^ (v >>> XSHIFT)) >>> 0);
  }
  // Viewed as little-endian uint64.
  const out: bigint[] = [];
  for (let i = 0; i < nWords64; i++) out.push(BigInt(words32[2 * i] as number) | (BigInt(words32[2 * i + 1] as number) << 32n));
  return out;
}

const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;

/** numpy's PCG64 bit generator (XSL-RR output), with its buffered 32-bit draws. */
export class Pcg64 {
  private state = 0n;
  private readonly inc: bigint;
  private spare: number | undefined;

  constructor(seed: number | bigint) {
    const [s0, s1, i0, i1] = seedSequenceState(seed, 4) as [bigint, bigint, bigint, bigint];
    // pcg64_set_seed: the first word is the high half.
    const initState = (s0 << 64n) | s1;
    const initSeq = (i0 << 64n) | i1;
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }

  next64(): bigint {
    this.step();
    const s = this.state;
    const x = ((s >> 64n) ^ s) & MASK64;
    const rot = s >> 122n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }

  /** Low half of a 64-bit draw first, then the high half (numpy pcg64_next32). */
  next32(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const v = this.next64();
    this.spare = Number(v >> 32n);
    return Number(v & MASK32);
  }

  /** A uniform integer in [0, n) for n <= 2^32 - 1 (numpy Generator.integers, Lemire's method on 32-bit draws). */
  below(n: number): number {
    const rng = n - 1;
    if (rng === 0) return 0; // numpy draws nothing for a one-element range
    const excl = BigInt(n);
    let m = BigInt(this.next32()) * excl;
    let leftover = Number(m & MASK32);
    if (leftover < n) {
      const threshold = (0xffffffff - rng) % n;
      while (leftover < threshold) {
        m = BigInt(this.next32()) * excl;
        leftover = Number(m & MASK32);
      }
    }
    return Number(m >> 32n);
  }
}

/** `np.random.default_rng(seed).choice(n, size=(samples, n), replace=True)`, one Uint32Array per sample. */
export function bootstrapIndices(n: number, samples: number, seed: number | bigint): Uint32Array[] {
  if (n > 0xffffffff) throw new Error("bootstrap: too many segments");
  const rng = new Pcg64(seed);
  const out: Uint32Array[] = [];
  for (let s = 0; s < samples; s++) {
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = rng.below(n);
    out.push(idx);
  }
  return out;
}
