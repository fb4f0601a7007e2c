// CTC decoding against hand-worked examples and against brute force over every alignment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { beamDecode, greedyDecode, greedyDecodeAlternatives, greedyDecodePenalized, type CtcHypothesis } from "../../src/infer/ctc.ts";

/** Greedy decoding from full log-probabilities (T × V): the per-frame argmax, then greedyDecode. */
function greedyFromLogProbs(lp: Float32Array, V: number, T: number): CtcHypothesis {
  const ids: number[] = [];
  for (let t = 0; t < T; t++) {
    const row = Array.from(lp.subarray(t * V, (t + 1) * V));
    ids.push(row.indexOf(Math.max(...row)));
  }
  return greedyDecode(ids, undefined, T);
}

test("greedy: collapse repeats, drop blanks, keep each token's frame span, ignore padding", () => {
  //           t: 0  1  2  3  4  5  6  7  8  (8 = padding)
  const ids = [0, 5, 5, 0, 5, 7, 7, 0, 9];
  const lp = [-0.1, -0.2, -0.3, -0.1, -0.5, -0.2, -0.2, -0.1, -9];
  const h = greedyDecode(ids, lp, 8);
  assert.deepEqual(h.tokens, [
    { id: 5, start: 1, end: 3 },
    { id: 5, start: 4, end: 5 },
    { id: 7, start: 5, end: 7 },
  ]);
  assert.ok(Math.abs(h.score - -1.7) < 1e-12);
  assert.deepEqual(greedyDecode(BigInt64Array.from([0n, 0n]), undefined, 2).tokens, []);
});

function normalizedRows(T: number, V: number, seed: number): Float32Array {
  const out = new Float32Array(T * V);
  let s = seed;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let t = 0; t < T; t++) {
    const e = Array.from({ length: V }, () => Math.exp(3 * rand()));
    const z = e.reduce((a, b) => a + b, 0);
    e.forEach((v, i) => (out[t * V + i] = Math.log(v / z)));
  }
  return out;
}

/** Sum over every alignment: P(labeling) for all labelings reachable in T frames. */
function bruteForce(lp: Float32Array, T: number, V: number): Map<string, number> {
  const probs = new Map<string, number>();
  const path = new Array<number>(T).fill(0);
  const walk = (t: number, logp: number): void => {
    if (t === T) {
      const labels: number[] = [];
      let prev = 0;
      for (const c of path) {
        if (c !== 0 && c !== prev) labels.push(c);
        prev = c;
      }
      const key = labels.join(",");
      probs.set(key, (probs.get(key) ?? 0) + Math.exp(logp));
      return;
    }
    for (let c = 0; c < V; c++) {
      path[t] = c;
      walk(t + 1, logp + lp[t * V + c]!);
    }
  };
  walk(0, 0);
  return probs;
}

test("prefix beam search with a wide beam finds the most probable labeling, scored exactly", () => {
  for (const seed of [1, 7, 42, 99]) {
    const T = 6;
    const V = 3;
    const lp = normalizedRows(T, V, seed);
    const probs = bruteForce(lp, T, V);
    const [bestKey, bestP] = [...probs.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const h = beamDecode(lp, V, T, { width: 1000, topK: V });
    assert.equal(h.tokens.map((t) => t.id).join(","), bestKey, `seed ${seed}`);
    assert.ok(Math.abs(h.score - Math.log(bestP)) < 1e-9, `seed ${seed}: ${h.score} vs ${Math.log(bestP)}`);
  }
});

test("beam search prefers the labeling greedy misses (summed alignments)", () => {
  // Frames: P(blank)=0.4, P(a)=0.35, P(b)=0.25 twice. Greedy picks blank,blank → "". Labelings:
  // "" = 0.16; "a" = 0.35·0.35 + 2·0.4·0.35 = 0.4025; so the beam must return "a".
  const row = [Math.log(0.4), Math.log(0.35), Math.log(0.25)];
  const lp = Float32Array.from([...row, ...row]);
  assert.deepEqual(greedyFromLogProbs(lp, 3, 2).tokens, []);
  const h = beamDecode(lp, 3, 2, { width: 4 });
  assert.deepEqual(h.tokens.map((t) => t.id), [1]);
  assert.ok(Math.abs(h.score - Math.log(0.4025)) < 1e-6);
});

test("beam search times: a token spans the frames of its best alignment", () => {
  // A clear alignment: blank, a, a, blank, b, blank (padding after frame 6).
  const V = 3;
  const frames = [0, 1, 1, 0, 2, 0, 1];
  const lp = new Float32Array(frames.length * V).fill(Math.log(0.01));
  frames.forEach((c, t) => (lp[t * V + c] = Math.log(0.98)));
  const h = beamDecode(lp, V, 6, { width: 5, topK: 2 });
  assert.deepEqual(h.tokens, [
    { id: 1, start: 1, end: 3 },
    { id: 2, start: 4, end: 5 },
  ]);
  assert.deepEqual(greedyFromLogProbs(lp, V, 6).tokens, h.tokens);
});

test("beam width 1 with top-1 pruning equals greedy on peaked outputs", () => {
  const T = 40;
  const V = 6;
  const lp = normalizedRows(T, V, 5);
  // Sharpen so that the best path dominates.
  for (let t = 0; t < T; t++) lp[t * V + ((t * 7) % V)] = Math.log(0.999);
  const g = greedyFromLogProbs(lp, V, T);
  const b = beamDecode(lp, V, T, { width: 1, topK: 1 });
  assert.deepEqual(b.tokens.map((t) => t.id), g.tokens.map((t) => t.id));
});

test("blank penalty: 0 is the graph's argmax (ties to the blank), a penalty turns close blank frames into their best token", () => {
  const V = 4;
  // Frame 0: blank wins by 0.3; frame 1: blank and token 2 tie; frame 2: token 1 wins; frame 3: blank wins by 2.
  const rows = [
    [-0.2, -0.5, -3.0, -4.0],
    [-0.7, -2.0, -0.7, -3.0],
    [-1.5, -0.3, -2.5, -3.0],
    [-0.1, -2.1, -4.0, -4.0],
    [-9.0, -9.0, -9.0, -0.0], // padding
  ];
  const lp = Float32Array.from(rows.flat());
  const T = 4;
  const plain = greedyDecodePenalized(lp, V, T, 0);
  assert.deepEqual(plain.tokens, greedyFromLogProbs(lp, V, T).tokens);
  assert.deepEqual(plain.tokens, [{ id: 1, start: 2, end: 3 }]);
  assert.ok(Math.abs(plain.score - (-0.2 - 0.7 - 0.3 - 0.1)) < 1e-6);
  // 0.5 flips frame 0 (by 0.3) and the tie, not frame 3 (by 2.0); the score has no penalty in it.
  const half = greedyDecodePenalized(lp, V, T, 0.5);
  assert.deepEqual(half.tokens, [
    { id: 1, start: 0, end: 1 },
    { id: 2, start: 1, end: 2 },
    { id: 1, start: 2, end: 3 },
  ]);
  assert.ok(Math.abs(half.score - (-0.5 - 0.7 - 0.3 - 0.1)) < 1e-6);
  // 2.5 flips frame 3 too, which then continues frame 2's token.
  assert.deepEqual(greedyDecodePenalized(lp, V, T, 2.5).tokens.at(-1), { id: 1, start: 2, end: 4 });
  // A negative penalty favours the blank.
  assert.deepEqual(greedyDecodePenalized(lp, V, T, -2).tokens, []);
});

test("blank penalty in the beam search: the same as searching log-probabilities whose blank column was lowered", () => {
  const T = 5;
  const V = 4;
  const lp = normalizedRows(T, V, 3);
  const lowered = new Float64Array(lp);
  for (let t = 0; t < T; t++) lowered[t * V] -= 0.8;
  const a = beamDecode(lp, V, T, { width: 8, topK: V, blankPenalty: 0.8 });
  const b = beamDecode(Float32Array.from(lowered), V, T, { width: 8, topK: V });
  assert.deepEqual(a.tokens, b.tokens);
  assert.ok(Math.abs(a.score - b.score) < 1e-5, `${a.score} vs ${b.score}`);
  // Here the penalty makes the search find a longer labeling: 2,3,2 instead of 3,2.
  assert.deepEqual(beamDecode(lp, V, T, { width: 8, topK: V }).tokens.map((t) => t.id), [3, 2]);
  assert.deepEqual(a.tokens.map((t) => t.id), [2, 3, 2]);
});

test("blank penalty from the alternatives to the blank (the graph's TopK of two) decodes as the scan of whole rows, ties included", () => {
  // Log-probabilities on a coarse grid, so that tokens tie with each other and with the blank.
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const [T, V] = [300, 6];
  const lp = Float32Array.from({ length: T * V }, () => -Math.round(next() * 8) / 2);
  // What the graph hands over: the blank's log-probability, and the best other token (lowest id among equals).
  const blank = new Float32Array(T);
  const ids = new BigInt64Array(T);
  const scores = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    blank[t] = lp[t * V]!;
    let best = 1;
    for (let v = 2; v < V; v++) if (lp[t * V + v]! > lp[t * V + best]!) best = v;
    ids[t] = BigInt(best);
    scores[t] = lp[t * V + best]!;
  }
  let changed = 0;
  for (const penalty of [-1, 0, 0.25, 0.5, 0.75, 3]) {
    for (const length of [T, 123]) {
      const want = greedyDecodePenalized(lp, V, length, penalty);
      assert.deepEqual(greedyDecodeAlternatives(blank, ids, scores, length, penalty), want, `penalty ${penalty}, ${length} frames`);
      if (want.tokens.length !== greedyDecodePenalized(lp, V, length, 0).tokens.length) changed++;
    }
  }
  assert.ok(changed >= 4, "the penalties change the hypotheses");
});