// Viterbi CTC forced alignment: the single best CTC path of a reference label sequence through the
// model's per-frame log-probabilities. It is the oracle of the curriculum (docs/model.md §5.2 step 2, §5.3),
// the max-product counterpart of the CTC forward algorithm, as imputer's `best_alignment`
// (fairseq/torch_imputer/imputer.py of xuchennlp/S2T): a trellis over the 2U+1 CTC states (even = blank,
// odd = label (s−1)/2), backtrace from the better of the last two states.
//
// Emissions come pre-gathered: for frame t, column 0 holds log p(blank) and column 1+u holds log p(y_u).
// Gathering on the device keeps the host copy at (T', U+1) per utterance instead of (T', V).

/** Emission scores of one utterance inside a larger Float32Array: score(t, k) = data[offset + t·stride + k]. */
export interface Emissions {
  data: Float32Array;
  offset: number;
  /** Distance between consecutive frames (≥ U + 1). */
  stride: number;
  frames: number;
}

/**
 * Best CTC state path s_0..s_{T−1} (values in 0..2U) for `target` (length U, no blanks), or null when no
 * valid path exists (T < U + number of adjacent repeats): the curriculum then leaves that utterance alone.
 */
export function viterbiAlign(em: Emissions, target: ArrayLike<number>): Int32Array | null {
  const T = em.frames;
  const U = target.length;
  const S = 2 * U + 1;
  if (T <= 0) return null;
  if (em.stride < U + 1) throw new RangeError(`viterbiAlign: stride ${em.stride} < U+1 = ${U + 1}`);
  const emit = (t: number, s: number): number =>
    em.data[em.offset + t * em.stride + (s & 1 ? (s + 1) >> 1 : 0)] as number;
  // A label state may skip the blank before it only when its label differs from the previous label.
  const canSkip = new Uint8Array(S);
  for (let s = 3; s < S; s += 2) canSkip[s] = target[(s - 1) >> 1] !== target[(s - 3) >> 1] ? 1 : 0;

  let prev = new Float64Array(S).fill(-Infinity);
  let cur = new Float64Array(S);
  // back[t·S + s] = the state at t−1 on the best path into (t, s).
  const back = new Int32Array(T * S);
  prev[0] = emit(0, 0);
  if (S > 1) prev[1] = emit(0, 1);
  for (let t = 1; t < T; t++) {
    // States that cannot reach the end in the remaining frames are still computed: the trellis is small
    // and pruning would only change which infeasible paths get -Infinity.
    for (let s = 0; s < S; s++) {
      let best = prev[s] as number;
      let from = s;
      if (s >= 1 && (prev[s - 1] as number) > best) {
        best = prev[s - 1] as number;
        from = s - 1;
      }
      if (canSkip[s] && (prev[s - 2] as number) > best) {
        best = prev[s - 2] as number;
        from = s - 2;
      }
      cur[s] = best + emit(t, s);
      back[t * S + s] = from;
    }
    [prev, cur] = [cur, prev];
  }
  let end = S - 1;
  if (S > 1 && (prev[S - 2] as number) > (prev[S - 1] as number)) end = S - 2;
  if (prev[end] === -Infinity || Number.isNaN(prev[end])) return null;
  const path = new Int32Array(T);
  path[T - 1] = end;
  for (let t = T - 1; t > 0; t--) path[t - 1] = back[t * S + (path[t] as number)] as number;
  return path;
}

/** Frame labels of a state path: blank (0) on even states, y_{(s−1)/2} on odd ones. */
export function statesToIds(path: Int32Array, target: ArrayLike<number>, blank = 0): Int32Array {
  const ids = new Int32Array(path.length);
  for (let t = 0; t < path.length; t++) {
    const s = path[t] as number;
    ids[t] = s & 1 ? (target[(s - 1) >> 1] as number) : blank;
  }
  return ids;
}

/**
 * Gathers the emissions the alignment needs from full log-probabilities (frames, vocab) of one utterance:
 * (frames, U+1) with column 0 = blank. For tests and small CPU runs; training gathers on the device.
 */
export function gatherEmissions(
  logProbs: Float32Array,
  frames: number,
  vocab: number,
  target: ArrayLike<number>,
  blank = 0,
): Emissions {
  const stride = target.length + 1;
  const data = new Float32Array(frames * stride);
  for (let t = 0; t < frames; t++) {
    data[t * stride] = logProbs[t * vocab + blank] as number;
    for (let u = 0; u < target.length; u++) {
      data[t * stride + 1 + u] = logProbs[t * vocab + (target[u] as number)] as number;
    }
  }
  return { data, offset: 0, stride, frames };
}
