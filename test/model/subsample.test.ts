import assert from "node:assert/strict";
import { test } from "node:test";
import { subsampledLength } from "../../src/model/config.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { initParams } from "../../src/eager/init.ts";
import { conv1d, tensor, tidy, zeros } from "../../src/torch/index.ts";
import { randomBatch, run, tinyConfig } from "./helpers.ts";

test("the subsampled-length formula equals the conv output sizes for lengths 1..400", () => {
  for (const cfg of [tinyConfig(), { ...tinyConfig(), subsampler: { layers: 3, channels: 64, kernel: 3 } }]) {
    const params = initParams(cfg, { seed: 4 });
    const ops = new EagerOps(params, false);
    const { layers, kernel } = cfg.subsampler;
    const pad = (kernel - 1) / 2;
    const all = Array.from({ length: 400 }, (_, i) => i + 1);
    let lengths = tensor(BigInt64Array.from(all, BigInt));
    for (let i = 0; i < layers; i++) lengths = ops.convLength(lengths, kernel, 2, pad);
    const viaOp = lengths.toArray();
    for (const L of all) {
      const size = tidy(() => {
        let x = zeros([1, cfg.inputDim, L]);
        for (let i = 0; i < layers; i++) {
          x = conv1d(x, params.get(`subsampler.conv.${i}.weight`)!, params.get(`subsampler.conv.${i}.bias`), { stride: 2, padding: pad, groups: 1 }).glu(1);
        }
        return x.shape[2] as number;
      });
      assert.equal(subsampledLength(cfg, L), size, `L = ${L}`);
      assert.equal(viaOp[L - 1], size, `Ops.convLength, L = ${L}`);
    }
    for (const t of params.values()) t.dispose();
  }
});

test("the forward's outLengths and time axis follow the formula for every length in a batch", () => {
  const cfg = tinyConfig();
  const params = initParams(cfg, { seed: 2 });
  for (let start = 1; start <= 200; start += 25) {
    const frames = Array.from({ length: 25 }, (_, i) => start + i);
    const out = run(cfg, params, randomBatch(frames), false);
    assert.deepEqual(out.outLengths.toArray(), frames.map((f) => subsampledLength(cfg, f)));
    assert.equal(out.tgtLogits.shape[1], subsampledLength(cfg, Math.max(...frames)));
  }
});
