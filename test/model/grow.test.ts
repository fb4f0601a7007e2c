import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { validateConfig, type NastConfig } from "../../src/model/config.ts";
import { growConfig, growWeights, type GrowPlan } from "../../src/model/grow.ts";
import { checkParams, paramSpecs } from "../../src/model/params.ts";
import { initParams } from "../../src/eager/init.ts";
import type { HostTensor } from "../../src/formats/safetensors.ts";
import { readStartWeights } from "../../src/train/start-weights.ts";
import { fromHost, toHostMap } from "../../src/train/host-tensors.ts";
import { saveSafetensors, Tensor } from "../../src/torch/index.ts";
import { run as growCli } from "../../src/cli/grow.ts";
import { maxAbsDiff, randomBatch, randomisedParams, run, tinyConfig } from "./helpers.ts";

/** Four Conformer layers (InterCTC after 2, LiSA 3-4) and three textual ones (memory 1, InterCTC after 2, LiSA 3). */
function source(): NastConfig {
  const t = tinyConfig();
  return validateConfig({
    ...t,
    acoustic: { ...t.acoustic, layers: 4, interCtcLayers: "2" },
    textual: { ...t.textual, layers: 3, interCtcLayers: "2", cla: { ...t.textual.cla, memoryLayer: 1 } },
    lisa: { ...t.lisa, acoustic: "3-4", textual: "3" },
  }, "test");
}

const PLAN: GrowPlan = { acousticAfter: [1, 3, 3, 4], textualAfter: [0, 1, 2, 3], acousticFfnDim: 192, textualFfnDim: 160 };

const toTensors = (m: Map<string, HostTensor>): Map<string, Tensor> => new Map([...m].map(([n, t]) => [n, fromHost(t, "cpu", n)]));

test("grow: new layers go where the plan says, with InterCTC, LiSA and the CLA memory on the trained layers' new numbers", () => {
  const grown = growConfig(source(), PLAN);
  // acoustic: s1 n s2 s3 n n s4 n; textual: n t1 n t2 n t3 n
  assert.deepEqual(grown.acoustic.map((g) => ("source" in g ? `s${g.source + 1}` : "n")).join(" "), "s1 n s2 s3 n n s4 n");
  assert.deepEqual(grown.cfg.acoustic.interCtcLayers, [3]);
  assert.deepEqual(grown.cfg.lisa.acoustic, [4, 5, 6, 7, 8]);
  assert.deepEqual(grown.textual.map((g) => ("source" in g ? `t${g.source + 1}` : "n")).join(" "), "n t1 n t2 n t3 n");
  assert.equal(grown.cfg.textual.cla.memoryLayer, 2);
  assert.deepEqual(grown.cfg.textual.interCtcLayers, [4]);
  assert.deepEqual(grown.cfg.lisa.textual, [5, 6, 7]);
  assert.equal(grown.cfg.acoustic.ffnDim, 192);
  assert.equal(grown.cfg.textual.ffnDim, 160);
});

test("grow: the grown model computes what the trained one computes (every CTC head, eval mode)", () => {
  const from = source();
  const grown = growConfig(from, PLAN);
  const trained = randomisedParams(from, 3);
  const weights = growWeights(toHostMap(trained), grown, toHostMap(initParams(grown.cfg, { seed: 5 })));
  const params = toTensors(weights);
  checkParams(paramSpecs(grown.cfg), params, "grown");
  const batch = randomBatch([90, 61]);
  const a = run(from, trained, batch, false);
  const b = run(grown.cfg, params, batch, false);
  const pairs: [Tensor, Tensor][] = [[a.srcLogits, b.srcLogits], [a.tgtLogits, b.tgtLogits], ...a.interSrcLogits.map((z, i): [Tensor, Tensor] => [z, b.interSrcLogits[i]!]), ...a.interTgtLogits.map((z, i): [Tensor, Tensor] => [z, b.interTgtLogits[i]!])];
  for (const [x, y] of pairs) {
    const scale = Math.max(...x.toArray().map(Math.abs));
    assert.ok(maxAbsDiff(x, y) <= 1e-4 * scale, `max |diff| ${maxAbsDiff(x, y)} of logits up to ${scale}`);
  }
  // And it is not the identity by accident: the new layers' trainable weights are there and drawn, and training changes outputs.
  assert.ok(maxAbsDiff(params.get("acoustic.layers.1.attn.q.weight")!, Tensor.fromBytes(new Uint8Array(4 * 64 * 64), [64, 64], "float32", "cpu")) > 0);
  const wrongNorm = new Map(weights);
  wrongNorm.set("acoustic.layers.1.final_norm.weight", { dtype: "F32", shape: [64], bytes: new Uint8Array(new Float32Array(64).fill(1).buffer) });
  const c = run(grown.cfg, toTensors(wrongNorm), batch, false);
  assert.ok(maxAbsDiff(a.srcLogits, c.srcLogits) > 1e-3, "the final-norm hand-over is what keeps a new Conformer layer the identity");
});

test("grow: refused where the grown model would not start as the trained one, or cannot", () => {
  assert.throws(() => growConfig(source(), { acousticAfter: [2], textualAfter: [] }), /acoustic layer 2 feeds InterCTC/);
  assert.throws(() => growConfig(source(), { acousticAfter: [0], textualAfter: [] }), /0 is not a layer to insert after \(1-4\)/);
  assert.throws(() => growConfig(source(), { acousticAfter: [], textualAfter: [4] }), /4 is not a layer to insert after \(0-3\)/);
  assert.throws(() => growConfig(source(), { acousticAfter: [], textualAfter: [], acousticFfnDim: 64 }), /at least the trained width 128/);
});

test("nast grow: writes weights and a config that nast train --init reads", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-grow-"));
  const from = source();
  const ckpt = join(dir, "small.safetensors");
  saveSafetensors(ckpt, randomisedParams(from, 4), { "nast.config": JSON.stringify(from) });
  const out = join(dir, "grown.safetensors");
  assert.equal(await growCli([ckpt, "-o", out, "--acoustic-after", "1", "--textual-after", "0,3", "--config-out", join(dir, "grown.json")]), 0);
  const start = readStartWeights(out, "cpu");
  assert.equal(start.cfg?.acoustic.layers, 5);
  assert.equal((start.cfg as NastConfig).textual.layers, 5);
  checkParams(paramSpecs(start.cfg!), start.tensors, out);
  await assert.rejects(growCli([ckpt, "-o", out, "--acoustic-after", "1,x"]), /'x' is not a layer number/);
  await assert.rejects(growCli([join(dir, "missing.safetensors"), "-o", out]), /missing\.safetensors/);
  await assert.rejects(growCli([ckpt, "-o", join(dir, "no-such-folder", "g.safetensors")]), /the folder .*no-such-folder does not exist/);
});
