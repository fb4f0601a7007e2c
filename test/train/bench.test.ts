// `nast bench train --json` (no timing asserted): full updates run on the synthetic batch and the report holds
// the speed fields and LiSA's Q/K parameter saving, computed from the config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../src/model/config.ts";
import { countParams, paramSpecs } from "../../src/model/params.ts";
import { syntheticBatch } from "../../src/train/bench.ts";
import { nast } from "./fixture.ts";

test("the synthetic batch is the one eval/pytorch/nast_step.py builds", () => {
  const cfg = loadConfig("tiny");
  const b = syntheticBatch(cfg, 4000, 600, 1);
  assert.equal(b.indices.length, 6); // floor(4000 / 600)
  assert.deepEqual(b.lengths, new Array(6).fill(600));
  // T' = 150 after 4x subsampling; references of T'/5 = 30 tokens in 1..V-1.
  for (const t of [...b.srcTargets, ...b.tgtTargets]) {
    assert.equal(t.length, 30);
    assert.ok(t.every((id) => id >= 1 && id < cfg.vocabSize));
  }
});

test("nast bench train --json reports speed and LiSA's Q/K parameters", () => {
  const r = nast(["bench", "train", "--presets", "tiny", "--steps", "1", "--warmup", "0", "--max-frames", "1200", "--threads", "1", "--json"]);
  const out = JSON.parse(r.stdout);
  const tiny = out.results[0];
  assert.equal(tiny.preset, "tiny");
  assert.equal(tiny.params, countParams(paramSpecs(loadConfig("tiny"))));
  assert.equal(tiny.utterances, 2);
  for (const k of ["msPerStep", "framesPerSecond", "loss", "encoderMs", "encoderMsNoLisa"]) assert.ok(Number.isFinite(tiny[k]) && tiny[k] > 0, k);
  // tiny: d=64, 2 heads, LiSA in acoustic 2 and textual 2. A full layer's scores need q, k (+ rel-pos terms in
  // the Conformer); a LiSA layer needs only the rank-r Q'/K', u and the head FFN.
  assert.ok(tiny.qkParams < tiny.qkParamsNoLisa, `${tiny.qkParams} < ${tiny.qkParamsNoLisa}`);
  assert.equal(tiny.pytorch, null);
});

test("nast bench train --ddp also times the updates through a one-rank Gloo group and reports the ratio", () => {
  const r = nast(["bench", "train", "--presets", "tiny", "--steps", "1", "--warmup", "0", "--max-frames", "1200", "--threads", "1", "--ddp", "--json"]);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.ddp, { backend: "gloo", worldSize: 1, bucketMb: 4 });
  const ddp = out.results[0].ddp;
  assert.equal(ddp.backend, "gloo");
  assert.equal(ddp.buckets, 1, "tiny's 1.2 MB of gradients fill one 4 MB bucket");
  for (const k of ["msPerStep", "framesPerSecond", "ratio"]) assert.ok(Number.isFinite(ddp[k]) && ddp[k] > 0, k);
  assert.ok(ddp.commMs >= 0 && ddp.commMs < ddp.msPerStep);
});
