import assert from "node:assert/strict";
import { test } from "node:test";
import { ctcMinFrames, nastLoss } from "../../src/model/loss.ts";
import type { Tensor } from "../../src/torch/index.ts";
import { randomBatch, randomisedParams, run, tinyConfig } from "./helpers.ts";

/** −log p(y | z) by the CTC forward recursion (Graves et al. 2006) in float64; Infinity if no path exists. */
function ctcReference(logits: number[][], y: number[]): number {
  const logp = logits.map((row) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return row.map((v) => v - lse);
  });
  const ext = [0];
  for (const t of y) ext.push(t, 0);
  const S = ext.length;
  const add = (a: number, b: number) => (a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))));
  let alpha = new Array<number>(S).fill(-Infinity);
  alpha[0] = logp[0]![0]!;
  if (S > 1) alpha[1] = logp[0]![ext[1]!]!;
  for (let t = 1; t < logp.length; t++) {
    const next = new Array<number>(S).fill(-Infinity);
    for (let s = 0; s < S; s++) {
      let a = alpha[s]!;
      if (s >= 1) a = add(a, alpha[s - 1]!);
      if (s >= 2 && ext[s] !== 0 && ext[s] !== ext[s - 2]) a = add(a, alpha[s - 2]!);
      next[s] = a + logp[t]![ext[s]!]!;
    }
    alpha = next;
  }
  const total = S > 1 ? add(alpha[S - 1]!, alpha[S - 2]!) : alpha[S - 1]!;
  return -total;
}

/** Rows of utterance b, its first n frames, of logits (B, T, V). */
function rows(z: Tensor, b: number, n: number): number[][] {
  const [, T, V] = z.shape as [number, number, number];
  const flat = z.toArray();
  return Array.from({ length: n }, (_, t) => flat.slice((b * T + t) * V, (b * T + t + 1) * V));
}

test("ctcMinFrames counts a blank between repeated tokens", () => {
  assert.equal(ctcMinFrames([]), 0);
  assert.equal(ctcMinFrames([4, 5, 6]), 3);
  assert.equal(ctcMinFrames([12, 12, 12]), 5);
  assert.equal(ctcMinFrames([3, 3, 4, 4, 3]), 7);
});

test("the loss is §1.9 exactly; an infeasible utterance is zeroed and counted; gradients stay finite", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  const batch = randomBatch([60, 15, 44]); // T' = 15, 4, 11
  const out = run(cfg, params, batch, false);
  const frames = out.outLengths.toArray();
  assert.deepEqual(frames, [15, 4, 11]);
  const src = [[1, 2, 3, 4], [5, 6], [7, 7, 8]];
  const tgt = [[9, 10, 11], [12, 12, 12], [13, 14]]; // the second needs 5 frames and has 4
  const result = nastLoss(out, { src, tgt });
  assert.deepEqual(result.infeasible, { src: 0, tgt: 1 });
  assert.equal(result.tgtTokens, 8);

  const sumOver = (z: Tensor, ys: number[][]) =>
    ys.reduce((acc, y, b) => {
      const l = ctcReference(rows(z, b, frames[b] as number), y);
      return acc + (Number.isFinite(l) ? l : 0);
    }, 0);
  assert.equal(ctcReference(rows(out.tgtLogits, 1, 4), tgt[1]!), Infinity);
  const mean = (zs: Tensor[], ys: number[][]) => zs.reduce((a, z) => a + sumOver(z, ys), 0) / zs.length;
  const terms = {
    src: sumOver(out.srcLogits, src) / 8,
    interSrc: mean(out.interSrcLogits, src) / 8,
    tgt: sumOver(out.tgtLogits, tgt) / 8,
    interTgt: mean(out.interTgtLogits, tgt) / 8,
  };
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(result.terms.src.item(), terms.src, "src");
  close(result.terms.interSrc!.item(), terms.interSrc, "interSrc");
  close(result.terms.tgt.item(), terms.tgt, "tgt");
  close(result.terms.interTgt!.item(), terms.interTgt, "interTgt");
  close(result.loss.item(), terms.src + terms.interSrc + terms.tgt + terms.interTgt, "loss");

  result.loss.backward();
  for (const [name, t] of params) {
    const g = t.grad;
    if (g !== null) assert.ok(Number.isFinite(g.abs().sum().item()), `${name} gradient is not finite`);
  }
});

test("bad target ids are refused with the utterance and position", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  const out = run(cfg, params, randomBatch([30, 20]), false);
  assert.throws(() => nastLoss(out, { src: [[1], [2]], tgt: [[1], [0, 3]] }), /target targets\[1\]\[0\] is 0; token ids must be in 1\.\.63/);
  assert.throws(() => nastLoss(out, { src: [[1], [64]], tgt: [[1], [2]] }), /source targets\[1\]\[0\] is 64/);
  assert.throws(() => nastLoss(out, { src: [[1]], tgt: [[1], [2]] }), /1 source targets for a batch of 2/);
});
