// CTC decoding of the target head (docs/model.md §6): greedy (argmax per frame, collapse repeats,
// drop the blank, id 0) and CTC prefix beam search (Hannun et al. 2014, "First-pass large vocabulary
// continuous speech recognition using bi-directional recurrent DNNs", §3.1; the reference decoder
// runs ctcdecode with cutoff_top_n = 40 and no LM). Each emitted token keeps the frames it spans
// in the chosen alignment, so that tokens, words and segments get times (frame × 40 ms).

export const BLANK = 0;

/** A token of a CTC hypothesis and the frames [start, end) of the alignment that emitted it. */
export interface CtcToken {
  id: number;
  start: number;
  end: number;
}

export interface CtcHypothesis {
  tokens: CtcToken[];
  /** Log-probability: greedy = Σ log p of the best path's frames; beam = log Σ over its alignments. */
  score: number;
}

/**
 * Greedy decoding from the per-frame argmax ids (and their log-probs) of one utterance; frames at
 * and after `length` are padding and ignored.
 */
export function greedyDecode(ids: ArrayLike<number | bigint>, logProbs: ArrayLike<number> | undefined, length: number): CtcHypothesis {
  const tokens: CtcToken[] = [];
  let prev = BLANK;
  let score = 0;
  for (let t = 0; t < length; t++) {
    const id = Number(ids[t]);
    if (logProbs) score += logProbs[t]!;
    if (id !== BLANK) {
      if (id === prev) tokens[tokens.length - 1]!.end = t + 1;
      else tokens.push({ id, start: t, end: t + 1 });
    }
    prev = id;
  }
  return { tokens, score };
}

/**
 * Greedy decoding from the log-probabilities (T × V, row-major) of one utterance with the blank's lowered by
 * `blankPenalty`: a frame whose blank wins by less than the penalty emits its most likely token instead. A
 * CTC model that is unsure of a stretch of speech gives it to the blank, so its output runs short of the
 * reference (a brevity penalty in BLEU); the penalty is the length lever of icefall's CTC and transducer
 * decoders (k2-fsa/icefall, `blank_penalty`). With 0 it is greedyDecode of the graph's argmax, ties
 * included (ArgMax takes the first index, and the blank is 0). The score sums the chosen frames'
 * log-probabilities without the penalty.
 */
export function greedyDecodePenalized(logProbs: Float32Array, vocab: number, length: number, blankPenalty: number): CtcHypothesis {
  const ids = new Int32Array(length);
  const scores = new Float32Array(length);
  for (let t = 0; t < length; t++) {
    const row = t * vocab;
    let best = BLANK;
    let bestLp = logProbs[row + BLANK]! - blankPenalty;
    for (let v = 1; v < vocab; v++) {
      const lp = logProbs[row + v]!;
      if (lp > bestLp) {
        best = v;
        bestLp = lp;
      }
    }
    ids[t] = best;
    scores[t] = logProbs[row + best]!;
  }
  return greedyDecode(ids, scores, length);
}

/**
 * greedyDecodePenalized from three numbers per frame instead of its whole row of V: the blank's log-probability
 * and the most likely other token with its log-probability (the graph's TopK of two: the first token, or the
 * second where the first is the blank; among equal log-probabilities the lowest id, as the row scan keeps it). The
 * other token wins where it beats the lowered blank, as in the scan: the same ids, the same scores.
 */
export function greedyDecodeAlternatives(blank: ArrayLike<number>, altIds: ArrayLike<number | bigint>, altScores: ArrayLike<number>, length: number, blankPenalty: number): CtcHypothesis {
  const ids = new Int32Array(length);
  const scores = new Float32Array(length);
  for (let t = 0; t < length; t++) {
    const other = altScores[t]!;
    const wins = other > blank[t]! - blankPenalty;
    ids[t] = wins ? Number(altIds[t]) : BLANK;
    scores[t] = wins ? other : blank[t]!;
  }
  return greedyDecode(ids, scores, length);
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** A node of the prefix trie: prefixes are compared by identity, never by building keys. */
class Prefix {
  private children?: Map<number, Prefix>;
  constructor(
    readonly id: number,
    readonly parent: Prefix | undefined,
  ) {}
  child(id: number): Prefix {
    this.children ??= new Map();
    let c = this.children.get(id);
    if (!c) {
      c = new Prefix(id, this);
      this.children.set(id, c);
    }
    return c;
  }
}

/** The alignment of a prefix's tokens, as a persistent list (last token first). */
interface Timing {
  start: number;
  end: number;
  prev: Timing | undefined;
}

interface Beam {
  prefix: Prefix;
  /** log P(prefix, alignment ends in blank), log P(prefix, ends in its last token). */
  pb: number;
  pnb: number;
  timing: Timing | undefined;
  /** The largest single contribution merged so far: its timing is the one kept. */
  best: number;
}

export interface BeamOptions {
  /** Beams kept after each frame. */
  width: number;
  /** Only the `topK` most likely tokens of a frame may extend a prefix (ctcdecode cutoff_top_n). */
  topK?: number;
  /** Subtracted from the blank's log-probability in every frame (greedyDecodePenalized); the score includes it. */
  blankPenalty?: number;
}

/** Indices of the k largest entries of row[offset .. offset+n), unordered. */
function topIndices(row: Float32Array, offset: number, n: number, k: number, out: Int32Array): number {
  if (k >= n) {
    for (let v = 0; v < n; v++) out[v] = v;
    return n;
  }
  // A min-heap of size k over the values.
  let size = 0;
  const val = (i: number): number => row[offset + out[i]!]!;
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && val(l) < val(m)) m = l;
      if (r < size && val(r) < val(m)) m = r;
      if (m === i) return;
      const tmp = out[i]!;
      out[i] = out[m]!;
      out[m] = tmp;
      i = m;
    }
  };
  for (let v = 0; v < n; v++) {
    if (size < k) {
      out[size] = v;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (val(p) <= val(i)) break;
        const tmp = out[i]!;
        out[i] = out[p]!;
        out[p] = tmp;
        i = p;
      }
    } else if (row[offset + v]! > val(0)) {
      out[0] = v;
      siftDown(0);
    }
  }
  return size;
}

/**
 * CTC prefix beam search over log-probabilities (T × V, row-major) of one utterance; frames at and
 * after `length` are ignored. Returns the most probable prefix (summed over its alignments).
 */
export function beamDecode(logProbs: Float32Array, vocab: number, length: number, opts: BeamOptions): CtcHypothesis {
  const width = Math.max(1, opts.width);
  const topK = Math.max(1, Math.min(opts.topK ?? 40, vocab));
  const root = new Prefix(-1, undefined);
  let beams: Beam[] = [{ prefix: root, pb: 0, pnb: -Infinity, timing: undefined, best: 0 }];
  const cand = new Int32Array(topK);

  for (let t = 0; t < length; t++) {
    const row = t * vocab;
    const next = new Map<Prefix, Beam>();
    const entry = (prefix: Prefix): Beam => {
      let b = next.get(prefix);
      if (!b) {
        b = { prefix, pb: -Infinity, pnb: -Infinity, timing: undefined, best: -Infinity };
        next.set(prefix, b);
      }
      return b;
    };
    const keep = (b: Beam, contribution: number, timing: Timing | undefined): void => {
      if (contribution > b.best) {
        b.best = contribution;
        b.timing = timing;
      }
    };
    const n = topIndices(logProbs, row, vocab, topK, cand);
    const blankLp = logProbs[row + BLANK]! - (opts.blankPenalty ?? 0);
    for (const beam of beams) {
      const total = logAdd(beam.pb, beam.pnb);
      // Blank: the prefix is unchanged.
      const b0 = entry(beam.prefix);
      const viaBlank = total + blankLp;
      b0.pb = logAdd(b0.pb, viaBlank);
      keep(b0, viaBlank, beam.timing);
      const last = beam.prefix.id;
      for (let i = 0; i < n; i++) {
        const c = cand[i]!;
        if (c === BLANK) continue;
        const lp = logProbs[row + c]!;
        if (c === last) {
          // Repeat without a blank in between: the same token goes on (its span grows).
          const same = entry(beam.prefix);
          const viaRepeat = beam.pnb + lp;
          same.pnb = logAdd(same.pnb, viaRepeat);
          const grown = beam.timing && { start: beam.timing.start, end: t + 1, prev: beam.timing.prev };
          keep(same, viaRepeat, grown);
          // After a blank, the same id is a new token.
          const ext = entry(beam.prefix.child(c));
          const viaNew = beam.pb + lp;
          ext.pnb = logAdd(ext.pnb, viaNew);
          keep(ext, viaNew, { start: t, end: t + 1, prev: beam.timing });
        } else {
          const ext = entry(beam.prefix.child(c));
          const via = total + lp;
          ext.pnb = logAdd(ext.pnb, via);
          keep(ext, via, { start: t, end: t + 1, prev: beam.timing });
        }
      }
    }
    beams = [...next.values()].sort((a, b) => logAdd(b.pb, b.pnb) - logAdd(a.pb, a.pnb)).slice(0, width);
  }

  const best = beams[0]!;
  const tokens: CtcToken[] = [];
  let timing = best.timing;
  for (let p: Prefix | undefined = best.prefix; p && p.parent; p = p.parent) {
    tokens.push({ id: p.id, start: timing?.start ?? 0, end: timing?.end ?? 0 });
    timing = timing?.prev;
  }
  tokens.reverse();
  return { tokens, score: logAdd(best.pb, best.pnb) };
}
