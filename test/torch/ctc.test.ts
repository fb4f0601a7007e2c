// CTC loss (Graves et al. 2006) against a hand-computed case and against brute-force enumeration of all
// alignments, plus its gradient against finite differences.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ctcLoss, tensor, tidy } from "../../src/torch/index.ts";
import { assertClose, checkGradient, pseudoRandom } from "./helpers.ts";

const i64 = (values: number[], shape?: number[]) => tensor(values, { dtype: "int64", shape });

/** −log Σ over all length-T paths that collapse (merge repeats, drop blanks) to `target`. */
function bruteForceCtc(probs: number[][], target: number[], blank: number): number {
  const T = probs.length;
  const V = probs[0]!.length;
  let total = 0;
  const path: number[] = new Array<number>(T).fill(0);
  const visit = (t: number, p: number): void => {
    if (t === T) {
      const out: number[] = [];
      for (let i = 0; i < T; i++) if (path[i] !== blank && (i === 0 || path[i] !== path[i - 1])) out.push(path[i]!);
      if (out.length === target.length && out.every((v, i) => v === target[i])) total += p;
      return;
    }
    for (let v = 0; v < V; v++) {
      path[t] = v;
      visit(t + 1, p * probs[t]![v]!);
    }
  };
  visit(0, 1);
  return -Math.log(total);
}

test("ctc_loss: hand-computed two-frame case", () =>
  tidy(() => {
    // frames p(blank), p(a): [0.6, 0.4], [0.3, 0.7]; paths to "a": aa, blank-a, a-blank
    // P = 0.4·0.7 + 0.6·0.7 + 0.4·0.3 = 0.82
    const lp = tensor([[[0.6, 0.4]], [[0.3, 0.7]]], { dtype: "float64" }).log();
    const loss = ctcLoss(lp, i64([1], [1, 1]), i64([2]), i64([1]), { reduction: "none" });
    assertClose(loss.toArray(), [-Math.log(0.82)], 1e-12);
    // "aa" in 3 frames needs a blank between: only a-blank-a
    const lp3 = tensor([[[0.6, 0.4]], [[0.3, 0.7]], [[0.5, 0.5]]], { dtype: "float64" }).log();
    const loss3 = ctcLoss(lp3, i64([1, 1], [1, 2]), i64([3]), i64([2]), { reduction: "sum" });
    assertClose(loss3.toArray(), [-Math.log(0.4 * 0.3 * 0.5)], 1e-12);
  }));

test("ctc_loss: matches brute-force enumeration, reductions, blank id, zero_infinity", () =>
  tidy(() => {
    const T = 5;
    const V = 3;
    const B = 3;
    const raw = pseudoRandom(T * B * V, 11);
    const logits = tensor(raw, { shape: [T, B, V], dtype: "float64" });
    const lp = logits.logSoftmax(2);
    const probs = lp.exp().toArray();
    const frames = (b: number, len: number) =>
      Array.from({ length: len }, (_, t) => Array.from({ length: V }, (_, v) => probs[(t * B + b) * V + v]!));
    const targets = [[1, 2], [2, 2, 1], [1, 0]]; // padded to 3 with anything
    const tgtLens = [2, 3, 1];
    const inLens = [5, 4, 3];
    const padded = targets.flatMap((t) => [...t, ...new Array(3 - t.length).fill(1)]);
    const expected = targets.map((t, b) => bruteForceCtc(frames(b, inLens[b]!), t.slice(0, tgtLens[b]), 0));
    const none = ctcLoss(lp, i64(padded, [B, 3]), i64(inLens), i64(tgtLens), { reduction: "none" });
    assertClose(none.toArray(), expected, 1e-10);
    const sum = ctcLoss(lp, i64(padded, [B, 3]), i64(inLens), i64(tgtLens), { reduction: "sum" }).item();
    assertClose([sum], [expected.reduce((a, b) => a + b)], 1e-10);
    const mean = ctcLoss(lp, i64(padded, [B, 3]), i64(inLens), i64(tgtLens)).item();
    assertClose([mean], [expected.reduce((a, e, b) => a + e / tgtLens[b]!, 0) / B], 1e-10);

    // blank id 2: the same frames with labels relabelled
    const lp1 = lp.narrow(1, 0, 1);
    const blank2 = ctcLoss(lp1, i64([0, 1], [1, 2]), i64([5]), i64([2]), { blank: 2, reduction: "none" });
    assertClose(blank2.toArray(), [bruteForceCtc(frames(0, 5), [0, 1], 2)], 1e-10);

    // "1 1 1" cannot fit in 3 frames (needs 5): inf, or 0 with zero_infinity
    const impossible = [i64([1, 1, 1], [1, 3]), i64([3]), i64([3])] as const;
    assert.equal(ctcLoss(lp1, ...impossible, { reduction: "none" }).item(), Infinity);
    assert.equal(ctcLoss(lp1, ...impossible, { reduction: "none", zeroInfinity: true }).item(), 0);
  }));

test("ctc_loss: gradient against finite differences", () => {
  const T = 4;
  const B = 2;
  const V = 3;
  const targets = i64([1, 2, 2, 0], [B, 2]);
  const inLens = i64([4, 3]);
  const tgtLens = i64([2, 1]);
  checkGradient(
    ([x]) => ctcLoss(x!.logSoftmax(2), targets, inLens, tgtLens, { reduction: "sum" }),
    [{ shape: [T, B, V], values: pseudoRandom(T * B * V, 5) }],
  );
  checkGradient(
    ([x]) => ctcLoss(x!.logSoftmax(2), targets, inLens, tgtLens, { reduction: "mean" }),
    [{ shape: [T, B, V], values: pseudoRandom(T * B * V, 6) }],
  );
  for (const t of [targets, inLens, tgtLens]) t.dispose();
});
