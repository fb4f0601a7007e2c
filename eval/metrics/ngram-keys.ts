// Fast n-gram matching for BLEU and chrF. Within one segment, every n-gram that occurs in the references gets a
// small integer id, order by order: the id of an n-gram is looked up from the id of its (n-1)-gram prefix and
// its last symbol. Counting and clipping then run on integer arrays. This gives exactly the counts of
// sacreBLEU's Counter-based code (Σ min(hyp count, ref count)) without building a string and a hash-map entry
// for every n-gram, which made chrF and BLEU slow (and garbage-collector bound) in V8.

/** Ids 1..size for symbols (characters or words) of the references; symbols never seen there map to 0. */
export class SymbolIds<T> {
  private readonly ids = new Map<T, number>();

  /** Ids of the symbols, giving new ones to unseen symbols. */
  intern(symbols: readonly T[]): number[] {
    return symbols.map((s) => {
      let id = this.ids.get(s);
      if (id === undefined) {
        id = this.ids.size + 1;
        this.ids.set(s, id);
      }
      return id;
    });
  }

  /** Ids of the symbols, 0 for those never interned (they cannot match a reference). */
  lookup(symbols: readonly T[]): number[] {
    return symbols.map((s) => this.ids.get(s) ?? 0);
  }

  get base(): number {
    return this.ids.size + 1;
  }
}

/** Dense ids for n-grams of orders 1..maxOrder, built from the references. */
export class NgramIds {
  private readonly levels: Map<number, number>[] = [];

  constructor(
    /** one more than the largest symbol id */
    private readonly base: number,
    private readonly maxOrder: number,
  ) {
    for (let n = 2; n <= maxOrder; n++) this.levels.push(new Map());
  }

  /**
   * ids[n-1][i]: the id of the n-gram starting at position i (0 when it never occurs in the references).
   * With `intern`, n-grams not seen before get new ids (used for the references).
   */
  ids(symbols: readonly number[], intern: boolean): number[][] {
    const out: number[][] = [symbols.slice()];
    for (let n = 2; n <= this.maxOrder; n++) {
      const prev = out[n - 2] as number[];
      const level = this.levels[n - 2] as Map<number, number>;
      const cur = new Array<number>(Math.max(0, symbols.length - n + 1));
      for (let i = 0; i < cur.length; i++) {
        const p = prev[i] as number;
        const s = symbols[i + n - 1] as number;
        let id = 0;
        if (p !== 0 && s !== 0) {
          // exact as a double: p and base are bounded by the segment's length and alphabet
          const key = p * this.base + s;
          const known = level.get(key);
          if (known !== undefined) id = known;
          else if (intern) {
            id = level.size + 1;
            level.set(key, id);
          }
        }
        cur[i] = id;
      }
      out.push(cur);
    }
    return out;
  }
}

/** A reusable counting array (growing as needed), zero between uses. */
let scratch = new Int32Array(1024);
let scratchMax = new Int32Array(1024);

function ensure(size: number): void {
  if (scratch.length < size) {
    scratch = new Int32Array(2 * size);
    scratchMax = new Int32Array(2 * size);
  }
}

function maxId(ids: readonly number[]): number {
  let m = 0;
  for (const x of ids) if (x > m) m = x;
  return m;
}

/** Σ over n-grams of min(count in hyp, count in ref), given the n-gram ids of one order. */
export function matches(hyp: readonly number[], ref: readonly number[]): number {
  ensure(maxId(ref) + 1);
  for (const x of ref) scratch[x] = (scratch[x] as number) + 1;
  let m = 0;
  for (const x of hyp) {
    if (x !== 0 && (scratch[x] as number) > 0) {
      m++;
      scratch[x] = (scratch[x] as number) - 1;
    }
  }
  for (const x of ref) scratch[x] = 0;
  return m;
}

/**
 * BLEU's clipped matches with several references: Σ over hyp n-grams of min(hyp count, max over references of
 * the reference count).
 */
export function clippedMatches(hyp: readonly number[], refs: readonly (readonly number[])[]): number {
  let size = 1;
  for (const r of refs) size = Math.max(size, maxId(r) + 1);
  ensure(size);
  for (const r of refs) {
    for (const x of r) scratch[x] = (scratch[x] as number) + 1;
    for (const x of r) {
      if ((scratch[x] as number) > (scratchMax[x] as number)) scratchMax[x] = scratch[x] as number;
    }
    for (const x of r) scratch[x] = 0;
  }
  let m = 0;
  for (const x of hyp) {
    if (x !== 0 && (scratchMax[x] as number) > 0) {
      m++;
      scratchMax[x] = (scratchMax[x] as number) - 1;
    }
  }
  for (const r of refs) for (const x of r) scratchMax[x] = 0;
  return m;
}
