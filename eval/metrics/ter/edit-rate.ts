// Translation edit rate with shifts (Snover et al., 2006), following sacreBLEU's lib_ter.py, a re-implementation
// of Tercom (docs/design.md §7.4): greedy shifts chosen as Tercom ranks them, each scored with a beam-limited
// Levenshtein distance whose rows are cached in a trie keyed by hypothesis prefixes. Every limit, cost and
// tie-break below changes numbers in corner cases, so each follows lib_ter.py.

const COST_INS = 1;
const COST_DEL = 1;
const COST_SUB = 1;
const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;
/** Cost of a cell outside the beam; never chosen because a candidate must be strictly cheaper. */
const INFINITY = 0x3fffffff;

// Edit operations; the trace rewrites the hypothesis into the reference.
const OP_NOP = 0;
const OP_SUB = 1;
const OP_INS = 2;
const OP_DEL = 3;
const OP_UNDEF = 4;

/**
 * Levenshtein distance to one reference with a diagonal beam and a prefix cache (lib_ter.BeamEditDistance).
 * The cache is a trie over hypothesis words; trie node k owns matrix row k (node 0, the root, owns the first
 * row). Rows live in two flat pools rather than one typed array each: V8 gives every typed array above 64
 * bytes its own off-heap buffer, and thousands of them per sentence made garbage collection dominate.
 */
class BeamEditDistance {
  private readonly nRef: number;
  private readonly rowLen: number;
  private costs: Int32Array;
  private ops: Uint8Array;
  /** children[k]: word → child node of trie node k */
  private readonly children: Map<string, number>[] = [new Map()];
  /** rows 0..used-1 belong to cached trie nodes; rows after them are scratch for the current call */
  private used = 1;

  constructor(private readonly ref: readonly string[]) {
    this.nRef = ref.length;
    this.rowLen = this.nRef + 1;
    this.costs = new Int32Array(64 * this.rowLen);
    this.ops = new Uint8Array(64 * this.rowLen);
    // First row: inserting the reference words one by one.
    for (let j = 0; j <= this.nRef; j++) {
      this.costs[j] = j * COST_INS;
      this.ops[j] = OP_INS;
    }
  }

  private reserve(rows: number): void {
    const need = rows * this.rowLen;
    if (need <= this.costs.length) return;
    const size = Math.max(need, 2 * this.costs.length);
    const costs = new Int32Array(size);
    costs.set(this.costs);
    const ops = new Uint8Array(size);
    ops.set(this.ops);
    this.costs = costs;
    this.ops = ops;
  }

  /** Edit distance and trace (one op per step) between the hypothesis and the reference. */
  distance(hyp: readonly string[]): { distance: number; trace: Uint8Array } {
    const nHyp = hyp.length;
    // rowOf[i]: pool row holding matrix row i; the cached prefix is reused as is.
    const rowOf = new Int32Array(nHyp + 1);
    let node = 0;
    let start = 0;
    for (; start < nHyp; start++) {
      const child = (this.children[node] as Map<string, number>).get(hyp[start] as string);
      if (child === undefined) break;
      rowOf[start + 1] = child;
      node = child;
    }
    // New rows go right after the cached ones and join the cache while it is below its size limit.
    const caching = this.children.length - 1 < MAX_CACHE_SIZE;
    this.reserve(this.used + nHyp - start);
    for (let i = start + 1; i <= nHyp; i++) rowOf[i] = this.used + (i - start - 1);
    const result = this.compute(hyp, start, rowOf);
    if (caching) {
      for (let i = start; i < nHyp; i++) {
        const id = rowOf[i + 1] as number;
        (this.children[node] as Map<string, number>).set(hyp[i] as string, id);
        this.children.push(new Map());
        node = id;
      }
      this.used += nHyp - start;
    }
    return result;
  }

  private compute(hyp: readonly string[], start: number, rowOf: Int32Array): { distance: number; trace: Uint8Array } {
    const nHyp = hyp.length;
    const nRef = this.nRef;
    const ref = this.ref;
    const L = this.rowLen;
    const costs = this.costs;
    const ops = this.ops;
    const lengthRatio = nHyp > 0 ? nRef / nHyp : 1;
    // With very different lengths, widen the beam so that consecutive rows still overlap.
    const beam = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH;

    for (let i = start + 1; i <= nHyp; i++) {
      const row = (rowOf[i] as number) * L;
      const prev = (rowOf[i - 1] as number) * L;
      costs.fill(INFINITY, row, row + L);
      ops.fill(OP_UNDEF, row, row + L);
      const pseudoDiag = Math.floor(i * lengthRatio);
      const minJ = Math.max(0, pseudoDiag - beam);
      const maxJ = i === nHyp ? nRef + 1 : Math.min(nRef + 1, pseudoDiag + beam);
      const word = hyp[i - 1];
      for (let j = minJ; j < maxJ; j++) {
        if (j === 0) {
          costs[row] = (costs[prev] as number) + COST_DEL;
          ops[row] = OP_DEL;
          continue;
        }
        // Tercom prefers no-op/substitution, then insertion, then deletion; the trace is flipped later,
        // so deletion comes before insertion here (lib_ter.py). Only a strictly cheaper option replaces.
        const same = word === ref[j - 1];
        let best = INFINITY;
        let bestOp = OP_UNDEF;
        const sub = (costs[prev + j - 1] as number) + (same ? 0 : COST_SUB);
        if (best > sub) {
          best = sub;
          bestOp = same ? OP_NOP : OP_SUB;
        }
        const del = (costs[prev + j] as number) + COST_DEL;
        if (best > del) {
          best = del;
          bestOp = OP_DEL;
        }
        const ins = (costs[row + j - 1] as number) + COST_INS;
        if (best > ins) {
          best = ins;
          bestOp = OP_INS;
        }
        costs[row + j] = best;
        ops[row + j] = bestOp;
      }
    }

    // Walk back from the last cell, filling the trace from its end.
    const buffer = new Uint8Array(nHyp + nRef);
    let k = buffer.length;
    let i = nHyp;
    let j = nRef;
    while (i > 0 || j > 0) {
      const o = ops[(rowOf[i] as number) * L + j] as number;
      buffer[--k] = o;
      if (o === OP_SUB || o === OP_NOP) {
        i--;
        j--;
      } else if (o === OP_INS) j--;
      else if (o === OP_DEL) i--;
      else throw new Error("TER: edit trace left the beam");
    }
    return { distance: costs[(rowOf[nHyp] as number) * L + nRef] as number, trace: buffer.subarray(k) };
  }
}

/**
 * The alignment that the flipped trace describes (lib_ter.trace_to_alignment): for each reference position
 * the aligned hypothesis position, and which positions on each side are errors.
 */
function traceToAlignment(trace: Uint8Array): { align: Map<number, number>; refErr: number[]; hypErr: number[] } {
  let posHyp = -1;
  let posRef = -1;
  const hypErr: number[] = [];
  const refErr: number[] = [];
  const align = new Map<number, number>();
  for (const op of trace) {
    // The trace is flipped (insertions ↔ deletions) to rewrite the reference into the hypothesis.
    if (op === OP_NOP || op === OP_SUB) {
      posHyp++;
      posRef++;
      align.set(posRef, posHyp);
      const err = op === OP_SUB ? 1 : 0;
      hypErr.push(err);
      refErr.push(err);
    } else if (op === OP_DEL) {
      // flipped: an insertion
      posHyp++;
      hypErr.push(1);
    } else if (op === OP_INS) {
      // flipped: a deletion
      posRef++;
      align.set(posRef, posHyp);
      refErr.push(1);
    }
  }
  return { align, refErr, hypErr };
}

/** Moves words[start, start+length) so that it starts before `target` (lib_ter._perform_shift). */
function performShift(words: readonly string[], start: number, length: number, target: number): string[] {
  if (target < start) {
    return [
      ...words.slice(0, target),
      ...words.slice(start, start + length),
      ...words.slice(target, start),
      ...words.slice(start + length),
    ];
  }
  if (target > start + length) {
    return [
      ...words.slice(0, start),
      ...words.slice(start + length, target),
      ...words.slice(start, start + length),
      ...words.slice(target),
    ];
  }
  return [
    ...words.slice(0, start),
    ...words.slice(start + length, length + target),
    ...words.slice(start, start + length),
    ...words.slice(length + target),
  ];
}

function sumRange(values: readonly number[], start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end && i < values.length; i++) s += values[i] as number;
  return s;
}

/**
 * The best single shift (lib_ter._shift). Candidates are ranked as Tercom does: largest edit-distance gain,
 * then longest, then earliest in the hypothesis, then earliest target; the first of equals wins.
 */
function bestShift(
  hyp: readonly string[],
  ref: readonly string[],
  ed: BeamEditDistance,
  checked: number,
): { gain: number; words: readonly string[]; checked: number } {
  const { distance: preScore, trace } = ed.distance(hyp);
  const { align, refErr, hypErr } = traceToAlignment(trace);
  let best: { gain: number; length: number; startH: number; idx: number; words: string[] } | undefined;
  const nHyp = hyp.length;
  const nRef = ref.length;

  outer: for (let startH = 0; startH < nHyp; startH++) {
    for (let startR = 0; startR < nRef; startR++) {
      if (Math.abs(startR - startH) > MAX_SHIFT_DIST) continue;
      // Matching runs hyp[startH..] == ref[startR..], each prefix length a candidate (lib_ter._find_shifted_pairs).
      for (let length = 1; length <= MAX_SHIFT_SIZE; length++) {
        if (hyp[startH + length - 1] !== ref[startR + length - 1]) break;
        // Only shift words that are wrong where they are, to a place where the reference is not matched.
        const skip =
          sumRange(hypErr, startH, startH + length) === 0 ||
          sumRange(refErr, startR, startR + length) === 0 ||
          (startH <= (align.get(startR) as number) && (align.get(startR) as number) < startH + length);
        if (!skip) {
          let prevIdx = -1;
          for (let offset = -1; offset < length; offset++) {
            let idx: number;
            if (startR + offset === -1) idx = 0;
            else if (align.has(startR + offset)) idx = (align.get(startR + offset) as number) + 1;
            else break;
            if (idx === prevIdx) continue;
            prevIdx = idx;
            const shifted = performShift(hyp, startH, length, idx);
            const gain = preScore - ed.distance(shifted).distance;
            checked++;
            if (
              best === undefined ||
              gain > best.gain ||
              (gain === best.gain &&
                (length > best.length ||
                  (length === best.length && (startH < best.startH || (startH === best.startH && idx < best.idx)))))
            ) {
              best = { gain, length, startH, idx, words: shifted };
            }
          }
          if (checked >= MAX_SHIFT_CANDIDATES) break outer;
        }
        if (startH + length === nHyp || startR + length === nRef) break;
      }
    }
  }
  if (best === undefined) return { gain: 0, words: hyp, checked };
  return { gain: best.gain, words: best.words, checked };
}

/** Number of edits (shifts + Levenshtein edits) turning the hypothesis into the reference, and the reference length. */
export function translationEditRate(hyp: readonly string[], ref: readonly string[]): { edits: number; refLength: number } {
  if (ref.length === 0) return { edits: hyp.length, refLength: 0 };
  const ed = new BeamEditDistance(ref);
  let shifts = 0;
  let words = hyp;
  let checked = 0;
  for (;;) {
    const r = bestShift(words, ref, ed, checked);
    checked = r.checked;
    // lib_ter stops on the candidate limit before applying the shift found in that round.
    if (checked >= MAX_SHIFT_CANDIDATES || r.gain <= 0) break;
    shifts++;
    words = r.words;
  }
  return { edits: shifts + ed.distance(words).distance, refLength: ref.length };
}
