import assert from "node:assert/strict";
import { test } from "node:test";
import { subsampledLength, type NastConfig } from "../../src/model/config.ts";
import { initParams } from "../../src/eager/init.ts";
import { attentionKl, nastLoss, targetTensors } from "../../src/eager/loss.ts";
import { lisaParamNames, paramSpecs } from "../../src/model/params.ts";
import { bernoulli, randint, rand, type Tensor } from "../../src/torch/index.ts";
import { maxAbsDiff, randomBatch, randomisedParams, run, single, tinyConfig } from "./helpers.ts";

test("forward output shapes (tiny, 3 utterances)", () => {
  const cfg = tinyConfig();
  const params = initParams(cfg, { seed: 1 });
  const batch = randomBatch([50, 37, 64]);
  const out = run(cfg, params, batch, false, { attention: true });
  const Tp = subsampledLength(cfg, 64);
  assert.equal(Tp, 16);
  assert.deepEqual(out.srcLogits.shape, [3, Tp, cfg.vocabSize]);
  assert.deepEqual(out.tgtLogits.shape, [3, Tp, cfg.vocabSize]);
  assert.deepEqual(out.outLengths.toArray(), [50, 37, 64].map((f) => subsampledLength(cfg, f)));
  assert.equal(out.outLengths.dtype, "int64");
  assert.deepEqual(out.padMask.shape, [3, Tp]);
  assert.equal(out.interSrcLogits.length, cfg.acoustic.interCtcLayers.length);
  assert.equal(out.interTgtLogits.length, cfg.textual.interCtcLayers.length);
  for (const z of [...out.interSrcLogits, ...out.interTgtLogits]) assert.deepEqual(z.shape, [3, Tp, cfg.vocabSize]);
  const records = out.attention!;
  assert.deepEqual(records.map((r) => `${r.encoder}${r.layer}${r.lisa ? "L" : ""}`), ["acoustic1", "acoustic2L", "textual1", "textual2L"]);
  for (const r of records) {
    assert.deepEqual(r.probs.shape, [3, cfg.heads, Tp, Tp]);
    // Rows are distributions with no weight on padded keys.
    const p = r.probs.toArray();
    const lens = out.outLengths.toArray();
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < Tp; i++) {
        let sum = 0;
        for (let j = 0; j < Tp; j++) {
          const v = p[((b * cfg.heads) * Tp + i) * Tp + j] as number;
          if (j >= (lens[b] as number)) assert.equal(v, 0);
          sum += v;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5);
      }
    }
  }
});

/** tolerance: absolute, or relative to the largest |logit| (fp32 sums over different padded lengths differ in rounding). */
function paddingInvariance(cfg: NastConfig, tolerance: { abs?: number; rel?: number }): void {
  const params = randomisedParams(cfg);
  const batch = randomBatch([120, 73, 31]);
  const out = run(cfg, params, batch, false);
  for (let b = 0; b < 3; b++) {
    const alone = run(cfg, params, single(batch, b), false);
    const n = alone.outLengths.toArray()[0] as number;
    const pick = (z: Tensor) => z.slice(0, b, b + 1).slice(1, 0, n);
    const pairs: [Tensor, Tensor][] = [
      [pick(out.srcLogits), alone.srcLogits],
      [pick(out.tgtLogits), alone.tgtLogits],
      ...out.interSrcLogits.map((z, i): [Tensor, Tensor] => [pick(z), alone.interSrcLogits[i]!]),
      ...out.interTgtLogits.map((z, i): [Tensor, Tensor] => [pick(z), alone.interTgtLogits[i]!]),
    ];
    for (const [x, y] of pairs) {
      const limit = tolerance.abs ?? (tolerance.rel as number) * Math.max(1, ...y.abs().toArray());
      assert.ok(maxAbsDiff(x, y) < limit, `utterance ${b}: ${maxAbsDiff(x, y)} >= ${limit}`);
    }
  }
}

test("padding invariance: an utterance in a padded batch gives its outputs alone (eval, within 1e-5)", () => {
  paddingInvariance(tinyConfig(), { abs: 1e-5 });
});

test("padding invariance also holds with LiSA sharing probabilities and a 3-layer LiSA chain", () => {
  const base = tinyConfig();
  paddingInvariance({
    ...base,
    acoustic: { ...base.acoustic, layers: 3 },
    lisa: { ...base.lisa, acoustic: [2, 3], shareSpace: "probs" },
  }, { rel: 1e-5 });
});

test("a LiSA layer at initialisation attends exactly as the previous layer (Δ = 0, head FFN = identity)", () => {
  const base = tinyConfig();
  const cfg: NastConfig = { ...base, acoustic: { ...base.acoustic, layers: 3 }, lisa: { ...base.lisa, acoustic: [2, 3] } };
  const params = initParams(cfg, { seed: 5 });
  const out = run(cfg, params, randomBatch([70, 45]), false, { attention: true });
  const rec = (enc: string, layer: number) => out.attention!.find((r) => r.encoder === enc && r.layer === layer)!;
  assert.equal(maxAbsDiff(rec("acoustic", 2).logits!, rec("acoustic", 1).logits!), 0);
  assert.equal(maxAbsDiff(rec("acoustic", 3).logits!, rec("acoustic", 1).logits!), 0);
  assert.equal(maxAbsDiff(rec("textual", 2).logits!, rec("textual", 1).logits!), 0);
  // The layers still differ in what they attend over: V and output projections are their own.
  assert.ok(maxAbsDiff(params.get("acoustic.layers.1.attn.v.weight")!, params.get("acoustic.layers.0.attn.v.weight")!) > 0);

  const probsCfg: NastConfig = { ...cfg, lisa: { ...cfg.lisa, shareSpace: "probs" } };
  const out2 = run(probsCfg, initParams(probsCfg, { seed: 5 }), randomBatch([70, 45]), false, { attention: true });
  const p = (enc: string, layer: number) => out2.attention!.find((r) => r.encoder === enc && r.layer === layer)!.probs;
  assert.ok(maxAbsDiff(p("acoustic", 3), p("acoustic", 1)) < 1e-6);
  assert.ok(maxAbsDiff(p("textual", 2), p("textual", 1)) < 1e-6);
});

function oracleFor(cfg: NastConfig, batch: ReturnType<typeof randomBatch>, maskProb: number) {
  const B = batch.frames.length;
  const Tp = subsampledLength(cfg, Math.max(...batch.frames));
  return {
    mask: bernoulli(maskProb, rand([B, Tp])).to("bool"),
    ids: randint(0, cfg.vocabSize, [B, Tp]),
    smoothing: 0.1,
  };
}

function targets(frames: number[], cfg: NastConfig, seed: number): number[][] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648);
  return frames.map((f) => Array.from({ length: Math.max(1, Math.floor(subsampledLength(cfg, f) / 3)) }, () => 1 + (next() % (cfg.vocabSize - 1))));
}

test("every parameter receives a non-zero gradient (LiSA, PAE, CLA, curriculum oracle)", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  const batch = randomBatch([60, 44, 52]);
  const out = run(cfg, params, batch, true, { oracle: oracleFor(cfg, batch, 0.5), random: () => 0.99 });
  const [src, srcLengths] = targetTensors(targets(batch.frames, cfg, 1), "cpu");
  const [tgt, tgtLengths] = targetTensors(targets(batch.frames, cfg, 2), "cpu");
  const { loss } = nastLoss(out, { src, srcLengths, tgt, tgtLengths }, null);
  assert.ok(Number.isFinite(loss.item()));
  loss.backward();
  const specs = paramSpecs(cfg);
  for (const s of specs) {
    const g = params.get(s.name)!.grad;
    if (s.buffer) {
      assert.equal(g, null, s.name);
      continue;
    }
    assert.ok(g !== null, `${s.name} has no gradient`);
    const a = g.abs().sum().item();
    assert.ok(a > 0 && Number.isFinite(a), `${s.name}: |grad| = ${a}`);
  }
});

test("the oracle replaces the target PAE input only where its mask is set", () => {
  const base = tinyConfig();
  const cfg: NastConfig = { ...base, dropout: 0, attentionDropout: 0, activationDropout: 0, textual: { ...base.textual, cla: { ...base.textual.cla, dropNet: 0 } } };
  const params = randomisedParams(cfg);
  const batch = randomBatch([40, 33]);
  const plain = run(cfg, params, batch, true);
  const none = run(cfg, params, batch, true, { oracle: oracleFor(cfg, batch, 0) });
  const all = run(cfg, params, batch, true, { oracle: oracleFor(cfg, batch, 1) });
  assert.equal(maxAbsDiff(none.tgtLogits, plain.tgtLogits), 0);
  assert.ok(maxAbsDiff(all.tgtLogits, plain.tgtLogits) > 1e-3);
  // The intermediate logits are the model's own: the oracle only acts after them.
  assert.equal(maxAbsDiff(all.interTgtLogits[0]!, plain.interTgtLogits[0]!), 0);
  assert.equal(maxAbsDiff(all.srcLogits, plain.srcLogits), 0);
});

test("drop-net skips the CLA layers' self-attention only in training, drawing from opts.random", () => {
  const base = tinyConfig();
  const cfg: NastConfig = { ...base, dropout: 0, attentionDropout: 0, activationDropout: 0 };
  const params = randomisedParams(cfg);
  const batch = randomBatch([40, 33]);
  let draws = 0;
  const keep = run(cfg, params, batch, true, { random: () => (draws++, 0.99) });
  assert.equal(draws, 1); // one CLA layer in tiny
  const skip = run(cfg, params, batch, true, { random: () => 0 });
  assert.ok(maxAbsDiff(keep.tgtLogits, skip.tgtLogits) > 1e-4);
  assert.equal(maxAbsDiff(keep.srcLogits, skip.srcLogits), 0);
  draws = 0;
  run(cfg, params, batch, false, { random: () => (draws++, 0) });
  assert.equal(draws, 0);
});

test("retro-fit: teacher attention of LiSA layers; the KL gradient reaches the LiSA parameters, not the teacher", () => {
  const cfg = tinyConfig();
  const params = randomisedParams(cfg);
  // A retro-fit adds the full layer's Q/K (from the trained checkpoint) next to the LiSA parameters.
  const teacherOnly = initParams(cfg, { seed: 9, teacher: true, skip: new Set(params.keys()) });
  assert.equal(teacherOnly.size, 11);
  for (const [n, t] of teacherOnly) params.set(n, t);
  const batch = randomBatch([48, 30]);
  const out = run(cfg, params, batch, false, { teacher: true });
  const lisaRecords = out.attention!;
  assert.deepEqual(lisaRecords.map((r) => [r.encoder, r.layer, r.lisa]), [["acoustic", 2, true], ["textual", 2, true]]);
  assert.ok(lisaRecords.every((r) => r.teacherLogProbs !== undefined));
  const all = run(cfg, params, batch, false, { teacher: true, attention: true }).attention!;
  assert.equal(all.length, 4);
  assert.ok(all.filter((r) => !r.lisa).every((r) => r.teacherLogProbs === undefined));
  // Its value against a hand computation is in loss.test.ts; here: where its gradient goes.
  const kl = attentionKl(out)!;
  assert.ok(kl.item() > 0);
  kl.backward();
  const lisa = new Set(lisaParamNames(cfg));
  for (const [name, t] of params) {
    if (!t.requiresGrad) continue;
    const g = t.grad;
    const a = g === null ? 0 : g.abs().sum().item();
    if (lisa.has(name)) assert.ok(a > 0, `${name} gets no KL gradient`);
    else if (teacherOnly.has(name)) assert.equal(a, 0, `the teacher ${name} is not trained by the KL term`);
  }
});
