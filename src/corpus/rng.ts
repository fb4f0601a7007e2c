// Seeded pseudo-random numbers for the synthetic corpus. Every random choice (split, talk grouping,
// speaker, augmentation, pauses, noise) draws from a generator derived from the user's seed and a
// label naming what it is for, so that the corpus is identical for a seed whatever the order in which
// parallel workers finish, and a change in one part (e.g. more talks) does not reshuffle another.
// This is deliberately not src/util/rng.ts's xoshiro128** generator: corpora must stay byte-identical
// for a seed (the GPU run's corpus and a local regeneration), so the corpus keeps its own stream, built
// from the shared splitmix32 and FNV-1a pieces.
import { fnv1a32, splitmix32 } from "../util/rng.ts";

/** A small, fast generator (SplitMix32-style mixing of a Weyl sequence); period 2^32 per stream. */
export class Rng {
  private readonly bits: () => number;

  constructor(seed: number) {
    this.bits = splitmix32(seed);
  }

  /** A generator for a named sub-stream: `Rng.derive(seed, "talk", 17)`. */
  static derive(seed: number, ...labels: (string | number)[]): Rng {
    return new Rng(hash32(`${seed >>> 0}/${labels.join("/")}`));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    return this.bits();
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Standard normal (Box-Muller); used for Gaussian noise. */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }
}

/** FNV-1a over UTF-16 code units, then mixed; a stable 32-bit hash of a label. */
export function hash32(text: string): number {
  let h = fnv1a32(text);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return h >>> 0;
}
