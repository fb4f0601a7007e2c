// A 5,000-step training loop of a small MLP: memory stays flat after warm-up and nothing leaks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdamW, clipGradNorm, Linear, liveTensors, manualSeed, mseLoss, randn, tidy } from "../../src/torch/index.ts";
import { inverseSqrtLr } from "../../src/train/schedule.ts";
import "./helpers.ts";

test("5,000 MLP training steps: RSS within 5% after warm-up, loss falls, no live tensors left", () => {
  const before = liveTensors();
  manualSeed(42);
  const l1 = new Linear(16, 64);
  const l2 = new Linear(64, 1);
  const params = new Map([...l1.namedParameters("l1."), ...l2.namedParameters("l2.")]);
  const opt = new AdamW(params, { lr: 3e-3, weightDecay: 0.01 });
  const schedule = (step: number): number => inverseSqrtLr(step, 3e-3, 200, 0);
  const target = randn([16, 1]);
  let rssAfterWarmup = 0;
  let peakRss = 0;
  let firstLoss = 0;
  let lastLoss = 0;
  for (let step = 1; step <= 5000; step++) {
    const loss = tidy(() => {
      const x = randn([32, 16]);
      const y = x.matmul(target).tanh();
      const loss = mseLoss(l2.forward(l1.forward(x).relu()), y);
      loss.backward();
      clipGradNorm(params, 1);
      opt.lr = schedule(step);
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
    if (step === 1) firstLoss = loss;
    lastLoss = loss;
    if (step === 1000) rssAfterWarmup = process.memoryUsage().rss;
    if (step > 1000 && step % 250 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  assert.ok(lastLoss < firstLoss / 5, `loss ${firstLoss} → ${lastLoss}`);
  assert.ok(peakRss <= rssAfterWarmup * 1.05, `RSS grew from ${rssAfterWarmup} to ${peakRss} bytes`);
  target.dispose();
  opt.dispose();
  l1.dispose();
  l2.dispose();
  assert.equal(liveTensors(), before, "every tensor was freed");
});
