// The loss training runs (src/eager/loss.ts, called by src/train/step.ts) against a hand computation in
// float64: each CTC term by the forward recursion, the intermediate terms averaged over their layers, an
// utterance that cannot be aligned contributing 0, and the retro-fit KL of docs/model.md §7.6.
import assert from "node:assert/strict";
import { test } from "node:test";
import { initParams } from "../../src/eager/init.ts";
import { nastLoss, targetTensors, type LossTargets } from "../../src/eager/loss.ts";
import type { NastOutput } from "../../src/model/nast.ts";
import type { Tensor } from "../../src/torch/index.ts";
import { randomBatch, randomisedParams, run, tinyConfig } from "../model/helpers.ts";

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

function lossTargets(src: number[][], tgt: number[][]): LossTargets {
  const [s, sl] = targetTensors(src, "cpu");
  const [t, tl] = targetTensors(tgt, "cpu");
  return { src: s, srcLengths: sl, tgt: t, tgtLengths: tl };
}

/**
 * Σ over LiSA layers, utterances and valid queries of the mean over heads of
 * Σ_j p_full[j] (log p_full[j] − log p_LiSA[j]), from the attention records' arrays.
 */
function klReference(out: NastOutput<Tensor>): number {
  const lens = out.outLengths.toArray();
  let total = 0;
  for (const r of out.attention!.filter((a) => a.lisa)) {
    const [B, H, T] = r.logProbs.shape as [number, number, number];
    const t = r.teacherLogProbs!.toArray();
    const s = r.logProbs.toArray();
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < (lens[b] as number); i++) {
        let sum = 0;
        for (let h = 0; h < H; h++) {
          for (let j = 0; j < T; j++) {
            const k = ((b * H + h) * T + i) * T + j;
            sum += Math.exp(t[k] as number) * ((t[k] as number) - (s[k] as number));
          }
        }
        total += sum / H;
      }
    }
  }
  return total;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test("the loss sums §5.1's terms over the batch; an infeasible utterance adds 0; gradients stay finite", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  const batch = randomBatch([60, 15, 44]); // T' = 15, 4, 11
  const out = run(cfg, params, batch, false);
  const frames = out.outLengths.toArray();
  assert.deepEqual(frames, [15, 4, 11]);
  const src = [[1, 2, 3, 4], [5, 6], [7, 7, 8]];
  const tgt = [[9, 10, 11], [12, 12, 12], [13, 14]]; // the second needs 5 frames and has 4
  const result = nastLoss(out, lossTargets(src, tgt), null);
  assert.equal(result.kl, null);

  const sumOver = (z: Tensor, ys: number[][]) =>
    ys.reduce((acc, y, b) => {
      const l = ctcReference(rows(z, b, frames[b] as number), y);
      return acc + (Number.isFinite(l) ? l : 0);
    }, 0);
  assert.equal(ctcReference(rows(out.tgtLogits, 1, 4), tgt[1]!), Infinity);
  const mean = (zs: Tensor[], ys: number[][]) => zs.reduce((a, z) => a + sumOver(z, ys), 0) / zs.length;
  const terms = {
    src: sumOver(out.srcLogits, src),
    srcInter: mean(out.interSrcLogits, src),
    tgt: sumOver(out.tgtLogits, tgt),
    tgtInter: mean(out.interTgtLogits, tgt),
  };
  close(result.src.item(), terms.src, "src");
  close(result.srcInter!.item(), terms.srcInter, "srcInter");
  close(result.tgt.item(), terms.tgt, "tgt");
  close(result.tgtInter!.item(), terms.tgtInter, "tgtInter");
  close(result.loss.item(), terms.src + terms.srcInter + terms.tgt + terms.tgtInter, "loss");

  result.loss.backward();
  for (const [name, t] of params) {
    const g = t.grad;
    if (g !== null) assert.ok(Number.isFinite(g.abs().sum().item()), `${name} gradient is not finite`);
  }
});

test("retro-fit: the loss adds λ · KL(full ‖ LiSA), averaged over heads and summed over queries, utterances and layers", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  for (const [n, t] of initParams(cfg, { seed: 9, teacher: true, skip: new Set(params.keys()) })) params.set(n, t);
  const batch = randomBatch([48, 30]); // T' = 12, 8
  const out = run(cfg, params, batch, false, { teacher: true });
  assert.equal(out.attention!.filter((r) => r.lisa).length, 2);
  const src = [[1, 2, 3], [4, 5]];
  const tgt = [[6, 7], [8, 9, 10]];
  const lambda = 0.5;
  const plain = nastLoss(out, lossTargets(src, tgt), null);
  const result = nastLoss(out, lossTargets(src, tgt), lambda);
  const kl = klReference(out);
  assert.ok(kl > 0);
  close(result.kl!.item(), kl, "kl");
  close(result.loss.item(), plain.loss.item() + lambda * kl, "loss");
});
