// The Viterbi CTC alignment against an exhaustive search over every frame labelling that collapses to the
// reference (collapse repeats, drop blanks): same best score, same frame labels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.ts";
import { gatherEmissions, statesToIds, viterbiAlign } from "../../src/train/viterbi.ts";

function logSoftmaxRows(rng: Rng, frames: number, vocab: number, sharpness: number): Float32Array {
  const out = new Float32Array(frames * vocab);
  for (let t = 0; t < frames; t++) {
    let max = -Infinity;
    const row = Array.from({ length: vocab }, () => rng.normal() * sharpness);
    for (const v of row) max = Math.max(max, v);
    const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
    row.forEach((v, i) => (out[t * vocab + i] = v - lse));
  }
  return out;
}

function collapse(labels: number[]): number[] {
  const out: number[] = [];
  labels.forEach((l, i) => {
    if (l !== 0 && (i === 0 || labels[i - 1] !== l)) out.push(l);
  });
  return out;
}

/** Best labelling by enumerating all vocab^frames sequences. */
function bruteForce(logp: Float32Array, frames: number, vocab: number, target: number[]) {
  let best = -Infinity;
  let bestLabels: number[] | null = null;
  const labels = new Array<number>(frames).fill(0);
  const total = vocab ** frames;
  for (let code = 0; code < total; code++) {
    let c = code;
    for (let t = 0; t < frames; t++) {
      labels[t] = c % vocab;
      c = Math.floor(c / vocab);
    }
    const col = collapse(labels);
    if (col.length !== target.length || col.some((v, i) => v !== target[i])) continue;
    let score = 0;
    for (let t = 0; t < frames; t++) score += logp[t * vocab + (labels[t] as number)] as number;
    if (score > best) {
      best = score;
      bestLabels = labels.slice();
    }
  }
  return { best, bestLabels };
}

function pathScore(logp: Float32Array, vocab: number, ids: Int32Array): number {
  let s = 0;
  ids.forEach((id, t) => (s += logp[t * vocab + id] as number));
  return s;
}

test("viterbi alignment equals brute force on random small cases", () => {
  const rng = new Rng(7);
  const vocab = 4;
  let checked = 0;
  for (let trial = 0; trial < 120; trial++) {
    const frames = 1 + rng.int(6);
    const U = rng.int(4);
    const target = Array.from({ length: U }, () => 1 + rng.int(vocab - 1));
    const logp = logSoftmaxRows(rng, frames, vocab, 1 + rng.uniform() * 3);
    const em = gatherEmissions(logp, frames, vocab, target);
    const path = viterbiAlign(em, target);
    const ref = bruteForce(logp, frames, vocab, target);
    if (ref.bestLabels === null) {
      assert.equal(path, null, `frames ${frames}, target ${target}: no valid path, Viterbi found one`);
      continue;
    }
    assert.ok(path, `frames ${frames}, target ${target}: Viterbi found no path`);
    const ids = statesToIds(path, target);
    assert.ok(Math.abs(pathScore(logp, vocab, ids) - ref.best) < 1e-4, "best score");
    assert.deepEqual(Array.from(ids), ref.bestLabels, `frames ${frames}, target [${target}]`);
    assert.deepEqual(collapse(Array.from(ids)), target, "the path spells the target");
    checked++;
  }
  assert.ok(checked > 60, `only ${checked} feasible cases`);
});

test("repeated labels need a blank between them; infeasible lengths give null", () => {
  // Target [1, 1] on 2 frames has no valid path (needs 1, blank, 1); on 3 frames exactly one.
  const vocab = 3;
  const logp = logSoftmaxRows(new Rng(1), 3, vocab, 1);
  assert.equal(viterbiAlign(gatherEmissions(logp, 2, vocab, [1, 1]), [1, 1]), null);
  const path = viterbiAlign(gatherEmissions(logp, 3, vocab, [1, 1]), [1, 1]);
  assert.ok(path);
  assert.deepEqual(Array.from(path), [1, 2, 3]);
  assert.deepEqual(Array.from(statesToIds(path, [1, 1])), [1, 0, 1]);
});

test("an empty target aligns every frame to blank; backtrace picks the better final state", () => {
  const vocab = 3;
  const logp = logSoftmaxRows(new Rng(2), 4, vocab, 1);
  const path = viterbiAlign(gatherEmissions(logp, 4, vocab, []), []);
  assert.deepEqual(Array.from(path ?? []), [0, 0, 0, 0]);
  // One label, two frames, the last frame strongly prefers blank: path ends in the final blank state.
  const lp = new Float32Array([Math.log(0.1), Math.log(0.8), Math.log(0.1), Math.log(0.9), Math.log(0.05), Math.log(0.05)]);
  assert.deepEqual(Array.from(viterbiAlign(gatherEmissions(lp, 2, 3, [1]), [1]) ?? []), [1, 2]);
});

test("emissions can be read in place from a padded batch buffer", () => {
  const vocab = 4;
  const target = [2, 3];
  const logp = logSoftmaxRows(new Rng(3), 5, vocab, 2);
  const em = gatherEmissions(logp, 5, vocab, target);
  // The same emissions inside a larger buffer with stride 5 and an offset.
  const stride = 5;
  const big = new Float32Array(100).fill(Number.NaN);
  for (let t = 0; t < 5; t++) for (let k = 0; k < 3; k++) big[10 + t * stride + k] = em.data[t * 3 + k] as number;
  const a = viterbiAlign(em, target);
  const b = viterbiAlign({ data: big, offset: 10, stride, frames: 5 }, target);
  assert.deepEqual(Array.from(b ?? []), Array.from(a ?? [-1]));
});
