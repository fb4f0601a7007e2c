// Optimizer steps against the update formulas, the warm-up schedule and gradient clipping.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Adam, AdamW, clipGradNorm, tensor, tidy, keep } from "../../src/torch/index.ts";
import { assertClose } from "./helpers.ts";

/** A float64 leaf parameter with a given gradient. */
function paramWithGrad(values: number[], grad: number[]) {
  const p = keep(tensor(values, { dtype: "float64", requiresGrad: true }));
  tidy(() => p.mul(tensor(grad, { dtype: "float64" })).sum().backward());
  return p;
}

test("AdamW: two steps match the decoupled-decay formula", () => {
  const theta0 = [1, -2, 0.5];
  const g1 = [0.1, -0.3, 2];
  const g2 = [-0.2, 0.4, 1];
  const lr = 0.01;
  const [b1, b2] = [0.9, 0.99];
  const eps = 1e-8;
  const wd = 0.1;
  const p = paramWithGrad(theta0, g1);
  const opt = new AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
  opt.step();
  // reference, written out per element (Loshchilov & Hutter 2019, Algorithm 2; torch.optim.AdamW)
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  let theta = theta0.slice();
  const step = (g: number[], t: number) => {
    theta = theta.map((th, i) => {
      const decayed = th * (1 - lr * wd);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mHat = m[i]! / (1 - b1 ** t);
      const vHat = v[i]! / (1 - b2 ** t);
      return decayed - (lr * mHat) / (Math.sqrt(vHat) + eps);
    });
  };
  step(g1, 1);
  assertClose(p.toArray(), theta, 1e-12, "after step 1");
  opt.zeroGrad();
  tidy(() => p.mul(tensor(g2, { dtype: "float64" })).sum().backward());
  opt.step();
  step(g2, 2);
  assertClose(p.toArray(), theta, 1e-12, "after step 2");
  assert.equal(opt.stepCount, 2);
  const state = opt.stateDict();
  assertClose(state.tensors.get("exp_avg.0")!.toArray(), m, 1e-12);
  assertClose(state.tensors.get("exp_avg_sq.0")!.toArray(), v, 1e-12);
  opt.dispose();
  p.dispose();
});

test("Adam: weight decay enters the gradient (L2)", () => {
  const lr = 0.1;
  const wd = 0.5;
  const p = paramWithGrad([2], [1]);
  const opt = new Adam([p], { lr, weightDecay: wd });
  opt.step();
  // g' = 1 + 0.5·2 = 2; m̂ = 2, v̂ = 4 → θ = 2 − 0.1·2/(2 + 1e-8)
  assertClose(p.toArray(), [2 - (lr * 2) / (2 + 1e-8)], 1e-12);
  opt.dispose();
  p.dispose();
});

test("optimizer state round-trips through stateDict/loadStateDict", () => {
  const p = paramWithGrad([1, 2], [0.5, -1]);
  const q = keep(tensor([1, 2], { dtype: "float64", requiresGrad: true }));
  const a = new AdamW(new Map([["w", p]]), { lr: 0.1 });
  a.step();
  const b = new AdamW(new Map([["w", q]]), { lr: 0.1 });
  b.loadStateDict(a.stateDict());
  assert.equal(b.stepCount, 1);
  assertClose(b.stateDict().tensors.get("exp_avg.w")!.toArray(), a.stateDict().tensors.get("exp_avg.w")!.toArray(), 0);
  assert.throws(() => b.loadStateDict({ step: 1, tensors: new Map([["exp_avg.nope", p]]) }), /unexpected entry "exp_avg\.nope"/);
  for (const x of [a, b, p, q]) x.dispose();
});

test("clipGradNorm scales all gradients by maxNorm / (norm + 1e-6) when above maxNorm", () => {
  const a = paramWithGrad([0, 0], [3, 0]);
  const b = paramWithGrad([0], [4]);
  const norm = clipGradNorm([a, b], 1);
  assertClose([norm], [5], 1e-12);
  const c = 1 / (5 + 1e-6);
  tidy(() => {
    assertClose(a.grad!.toArray(), [3 * c, 0], 1e-12);
    assertClose(b.grad!.toArray(), [4 * c], 1e-12);
  });
  // below the limit: unchanged
  const norm2 = clipGradNorm(new Map([["a", a], ["b", b]]), 10);
  assertClose([norm2], [5 * c], 1e-12);
  tidy(() => assertClose(b.grad!.toArray(), [4 * c], 1e-12));
  a.dispose();
  b.dispose();
});
