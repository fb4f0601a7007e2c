// The autoregressive counterpart (docs/model.md §10): its presets share the NAST presets' encoder exactly; one
// decoding step with the key/value cache gives the teacher-forced forward's log-probabilities; the decoder is
// causal; the label-smoothed cross-entropy has fairseq's value; bad AR configs name the key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig, loadModelConfig, validateModelConfig, withVocabSize, type ArConfig } from "../../src/model/config.ts";
import { paramSpecs } from "../../src/model/params.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { arForward } from "../../src/model/ar.ts";
import { EOS_ID, PAD_ID } from "../../src/model/token-ids.ts";
import { decoderTargets, labelSmoothedCe } from "../../src/eager/ar-loss.ts";
import { EagerArStepper } from "../../src/eager/ar-stepper.ts";
import { noGrad, setNumThreads, tensor, tidy } from "../../src/torch/index.ts";
import { maxAbsDiff, randomBatch, randomisedParams } from "./helpers.ts";

setNumThreads(1);

function arTiny(vocab = 12): ArConfig {
  return withVocabSize(loadModelConfig("ar-tiny") as ArConfig, vocab);
}

test("ar-small and ar-tiny have exactly the encoder of small and tiny (names, shapes, initialisations)", () => {
  for (const [ar, nast] of [["ar-small", "small"], ["ar-tiny", "tiny"]] as const) {
    const encoderOf = (specs: ReturnType<typeof paramSpecs>) => specs.filter((s) => /^(subsampler|embed_norm|acoustic|ctc\.(weight|src_bias)|pae\.src)/.test(s.name));
    const a = encoderOf(paramSpecs(loadModelConfig(ar)));
    const n = encoderOf(paramSpecs(loadConfig(nast)));
    assert.ok(a.length > 50);
    assert.deepEqual(a, n, `${ar} vs ${nast}`);
  }
  const small = loadModelConfig("ar-small") as ArConfig;
  assert.deepEqual(small.decoder, { layers: 6, ffnDim: 1024, labelSmoothing: 0.1, ctcWeight: 0.3 });
  // The decoder: 6 × (2 attention blocks of 4 d² + d weights each, FFN 2·d·f + f + d, 3 LayerNorms) + embedding + final LN.
  const d = 256;
  const f = 1024;
  const perLayer = 2 * (4 * d * d + 4 * d) + (2 * d * f + f + d) + 3 * 2 * d;
  const decoder = paramSpecs(small).filter((s) => s.name.startsWith("decoder."));
  assert.equal(decoder.reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0), 6 * perLayer + 4000 * d + 2 * d);
});

test("one cached decoding step gives the teacher-forced log-probabilities, and the decoder is causal", () => {
  const cfg = arTiny();
  const params = randomisedParams(cfg, 11);
  noGrad(() =>
    tidy(() => {
      const batch = randomBatch([40, 29, 33]);
      const targets = [[5, 6, 7, 8, 9], [9, 4], [3, 3, 10]];
      const { prev } = decoderTargets(targets, "cpu");
      const U = prev.shape[1]!;
      const ops = new EagerOps(params, false);
      const logProbs = arForward(ops, cfg, batch.feats, batch.lengths, prev).logits.logSoftmax(2); // (B,U,V)
      const stepper = EagerArStepper.encode(cfg, params, batch.feats, batch.lengths, "cpu", false);
      const rows = Int32Array.from([0, 1, 2]);
      const prevIds = prev.toArray() as number[];
      let worst = 0;
      for (let t = 0; t < U; t++) {
        const step = stepper.step({ tokens: Int32Array.from(rows, (b) => prevIds[b * U + t]!), parent: rows, source: rows, position: t });
        const ref = logProbs.slice(1, t, t + 1).contiguous().data() as Float32Array;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - step[i]!));
      }
      stepper.dispose();
      assert.ok(worst < 2e-5, `max |Δ log p| ${worst}`);

      // A later token changes nothing before it; an earlier one changes what follows.
      const changed = prev.clone();
      changed.slice(1, 3, 4).fillInPlace(4);
      const again = arForward(ops, cfg, batch.feats, batch.lengths, changed).logits.logSoftmax(2);
      assert.equal(maxAbsDiff(again.slice(1, 0, 3), logProbs.slice(1, 0, 3)), 0);
      assert.ok(maxAbsDiff(again.slice(1, 3, 4), logProbs.slice(1, 3, 4)) > 1e-4);
    }),
  );
});

test("decoder targets are fairseq's: prev = [</s>, y], next = [y, </s>], padded with <pad>", () => {
  tidy(() => {
    const { prev, next } = decoderTargets([[7, 8, 9], [5]], "cpu");
    assert.deepEqual(prev.shape, [2, 4]);
    assert.deepEqual(prev.toArray(), [EOS_ID, 7, 8, 9, EOS_ID, 5, PAD_ID, PAD_ID]);
    assert.deepEqual(next.toArray(), [7, 8, 9, EOS_ID, 5, EOS_ID, PAD_ID, PAD_ID]);
  });
});

test("label-smoothed cross-entropy: fairseq's (1 − ε − ε/(V−1))·nll + ε/(V−1)·Σ −log p, padding excluded", () => {
  tidy(() => {
    const raw = [0.5, -1, 2, 0, 1, 1, -0.5, 3];
    const logits = tensor(Float32Array.from(raw), { shape: [1, 2, 4] });
    const next = tensor(new BigInt64Array([2n, BigInt(PAD_ID)]), { shape: [1, 2], dtype: "int64" });
    const eps = 0.1;
    const row = raw.slice(0, 4);
    const lse = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
    const logp = row.map((x) => x - lse);
    const epsI = eps / 3;
    const expected = (1 - eps - epsI) * -logp[2]! + epsI * -logp.reduce((a, x) => a + x, 0);
    assert.ok(Math.abs(labelSmoothedCe(logits, next, eps).item() - expected) < 1e-5);
    assert.ok(Math.abs(labelSmoothedCe(logits, next, 0).item() + logp[2]!) < 1e-5, "ε = 0 is the NLL");
  });
});

test("AR configs: the decoder keys are checked, a textual LiSA layer and NAST-only commands are refused by name", () => {
  const raw = structuredClone(loadModelConfig("ar-tiny")) as unknown as Record<string, any>;
  assert.equal(validateModelConfig(structuredClone(raw), "x.json").vocabSize, 64, "its own JSON round-trips");
  const bad = (edit: (r: Record<string, any>) => void, message: RegExp) => {
    const r = structuredClone(raw);
    edit(r);
    assert.throws(() => validateModelConfig(r, "ar.json"), (e: Error) => e instanceof ConfigError && message.test(e.message));
  };
  bad((r) => delete r.decoder.ctcWeight, /^ar\.json: decoder\.ctcWeight: missing/);
  bad((r) => (r.decoder.labelSmoothing = 1), /decoder\.labelSmoothing: 1 must be below 1/);
  bad((r) => (r.lisa.textual = "2"), /lisa\.textual: an autoregressive model has no textual encoder/);
  bad((r) => (r.textual = {}), /textual: unknown key/);
  assert.throws(() => loadConfig("ar-tiny"), /ar-tiny: is an autoregressive model \("arch": "ar"\)/);
});
