// The curriculum oracle: frame labels from the Viterbi alignment, masks only on mistaken valid frames, the
// replaced fraction ≈ ratio × mistakes, and the schedules (inverse-sqrt warm-up, optional ratio decay).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.ts";
import { buildOracle } from "../../src/train/curriculum.ts";
import { curriculumRatio, inverseSqrtLr } from "../../src/train/schedule.ts";
import { gatherEmissions, statesToIds, viterbiAlign } from "../../src/train/viterbi.ts";

/** Random log-probabilities (B, T, V) with a few utterances and their gathered emissions. */
function batch(rng: Rng, B: number, T: number, V: number, targets: number[][]) {
  const stride = Math.max(...targets.map((t) => t.length)) + 1;
  const emissions = new Float32Array(B * T * stride).fill(Number.NaN);
  const argmax = new Int32Array(B * T);
  const full: Float32Array[] = [];
  for (let b = 0; b < B; b++) {
    const lp = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      const row = Array.from({ length: V }, () => rng.normal() * 2);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      row.forEach((v, i) => (lp[t * V + i] = v - lse));
      argmax[b * T + t] = row.indexOf(m);
    }
    full.push(lp);
    const em = gatherEmissions(lp, T, V, targets[b]!);
    for (let t = 0; t < T; t++) for (let k = 0; k < em.stride; k++) emissions[(b * T + t) * stride + k] = em.data[t * em.stride + k]!;
  }
  return { emissions, stride, argmax, full };
}

test("oracle ids follow the Viterbi path; only mistaken valid frames are masked", () => {
  const rng = new Rng(11);
  const B = 3, T = 12, V = 6;
  const targets = [[1, 2, 3], [4, 4], [5, 1, 2, 3, 4, 5, 1, 2, 3]];
  const lengths = [12, 7, 4];
  const { emissions, stride, argmax, full } = batch(rng, B, T, V, targets);
  const o = buildOracle({ emissions, stride, frames: T, lengths, argmax, targets, ratio: 1, onlyMistakes: true, rng: new Rng(1) });
  assert.equal(o.infeasible, 1, "9 labels cannot fit in 4 frames");
  assert.equal(o.validFrames, 23);
  for (let b = 0; b < 2; b++) {
    const path = viterbiAlign(gatherEmissions(full[b]!, lengths[b]!, V, targets[b]!), targets[b]!)!;
    const expect = statesToIds(path, targets[b]!);
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (t >= lengths[b]!) {
        assert.equal(o.mask[i], 0, "padded frame never masked");
        assert.equal(o.ids[i], 0, "padded frame is blank");
        continue;
      }
      assert.equal(o.ids[i], expect[t]);
      // ratio 1: every mistake is replaced, nothing else.
      assert.equal(o.mask[i], argmax[i] !== expect[t] ? 1 : 0);
    }
  }
  for (let t = 0; t < T; t++) assert.equal(o.mask[2 * T + t], 0, "infeasible utterance untouched");
  assert.equal(o.replaced, o.mistakes);
});

test("the replaced fraction is ratio × mistakes; onlyMistakes=false also replaces right frames", () => {
  const rng = new Rng(5);
  const B = 8, T = 60, V = 5;
  const targets = Array.from({ length: B }, () => Array.from({ length: 10 }, () => 1 + rng.int(V - 1)));
  const lengths = new Array(B).fill(T);
  const { emissions, stride, argmax } = batch(rng, B, T, V, targets);
  const o = buildOracle({ emissions, stride, frames: T, lengths, argmax, targets, ratio: 0.8, onlyMistakes: true, rng: new Rng(2) });
  assert.ok(o.mistakes > 100);
  const frac = o.replaced / o.mistakes;
  assert.ok(Math.abs(frac - 0.8) < 0.06, `replaced/mistakes = ${frac}`);
  const all = buildOracle({ emissions, stride, frames: T, lengths, argmax, targets, ratio: 0.5, onlyMistakes: false, rng: new Rng(2) });
  assert.ok(Math.abs(all.replaced / all.validFrames - 0.5) < 0.06);
  assert.ok(all.replaced > all.mistakes * 0.5 + 20, "right frames replaced too");
  const off = buildOracle({ emissions, stride, frames: T, lengths, argmax, targets, ratio: 0, onlyMistakes: true, rng: new Rng(2) });
  assert.equal(off.replaced, 0);
  // Same seed, same mask.
  const again = buildOracle({ emissions, stride, frames: T, lengths, argmax, targets, ratio: 0.8, onlyMistakes: true, rng: new Rng(2) });
  assert.deepEqual(again.mask, o.mask);
});

test("inverse-sqrt warm-up (fairseq) and the linear ratio decay", () => {
  assert.equal(inverseSqrtLr(0, 1e-3, 100), 1e-7);
  assert.ok(Math.abs(inverseSqrtLr(50, 1e-3, 100) - (1e-7 + 0.5 * (1e-3 - 1e-7))) < 1e-15);
  assert.equal(inverseSqrtLr(100, 1e-3, 100), 1e-3);
  assert.ok(Math.abs(inverseSqrtLr(400, 1e-3, 100) - 5e-4) < 1e-15);
  assert.equal(inverseSqrtLr(7, 2e-3, 0), 2e-3 / Math.sqrt(7));
  assert.equal(curriculumRatio(500, 0.8), 0.8);
  const decay = { startStep: 100, endStep: 300, endRatio: 0.2 };
  assert.equal(curriculumRatio(50, 0.8, decay), 0.8);
  assert.ok(Math.abs(curriculumRatio(200, 0.8, decay) - 0.5) < 1e-12);
  assert.equal(curriculumRatio(1000, 0.8, decay), 0.2);
});

test("inverse-sqrt schedule: linear warm-up, then peak·sqrt(warmup/step)", () => {
  const lr = (step: number): number => inverseSqrtLr(step, 2e-3, 100, 1e-7);
  const assertClose = (got: number[], want: number[], tol: number): void => assert.ok(Math.abs(got[0]! - want[0]!) <= tol, `${got[0]} vs ${want[0]}`);
  assertClose([lr(0)], [1e-7], 1e-12);
  assertClose([lr(50)], [1e-7 + (2e-3 - 1e-7) * 0.5], 1e-12);
  assertClose([lr(100)], [2e-3], 1e-12);
  assertClose([lr(400)], [1e-3], 1e-12);
  assertClose([lr(10000)], [2e-4], 1e-12);
});
