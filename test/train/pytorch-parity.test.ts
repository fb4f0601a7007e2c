// eval/pytorch/nast_step.py is the yardstick of `nast bench train --pytorch`: it must be the same model. Same
// weights (a checkpoint written here), same features → the same target logits as the TypeScript model, for
// the tiny preset (every component, LiSA included) and for a config with LiSA sharing probabilities.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, validateConfig, withVocabSize, type NastConfig } from "../../src/model/config.ts";
import { EagerOps } from "../../src/eager/eager-ops.ts";
import { initParams } from "../../src/eager/init.ts";
import { forward } from "../../src/model/nast.ts";
import { disposeAll, noGrad, tensor } from "../../src/torch/index.ts";
import { toHostMap } from "../../src/train/host-tensors.ts";
import { writeSafetensors } from "../../src/formats/safetensors.ts";
import { Rng } from "../../src/util/rng.ts";
import { REPO } from "./fixture.ts";

// Debian's interpreter holds python3-torch (installed with python3-torchaudio); a PATH python may not.
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function parity(cfg: NastConfig, label: string): void {
  const dir = mkdtempSync(join(tmpdir(), "nast-parity-"));
  const params = initParams(cfg, { seed: 3 });
  try {
    // Non-trivial LiSA modules and batch-norm statistics: perturb the zero/one-initialised tensors.
    const rng = new Rng(4);
    noGrad(() => {
      for (const [name, p] of params) {
        if (/lisa\.(head_fc2|q_lr|u)|running_|pos_bias/.test(name)) {
          const noise = Float32Array.from({ length: p.numel }, () => (name.includes("running_var") ? 0.5 + rng.uniform() : rng.normal() * 0.1));
          p.copyInPlace(tensor(noise, { shape: p.shape, dtype: "float32" }));
        }
      }
    });
    const ckpt = join(dir, "model.safetensors");
    writeSafetensors(ckpt, toHostMap(params), { "nast.config": JSON.stringify(cfg) });
    const frames = 203;
    const feats = Float32Array.from({ length: frames * cfg.inputDim }, () => rng.normal());
    const featsPath = join(dir, "feats.f32");
    writeFileSync(featsPath, Buffer.from(feats.buffer));
    const outPath = join(dir, "logits.f32");
    const r = spawnSync(PYTHON, [join(REPO, "eval/pytorch/nast_step.py"), "--threads", "1", "--dump-logits", ckpt, featsPath, String(frames), outPath], { encoding: "utf8" });
    assert.equal(r.status, 0, `${PYTHON} nast_step.py --dump-logits: ${r.stderr}`);
    const theirs = new Float32Array(readFileSync(outPath).buffer.slice(0));
    const ours = noGrad(() => {
      const x = tensor(feats, { shape: [1, frames, cfg.inputDim], dtype: "float32" });
      const len = tensor(BigInt64Array.from([BigInt(frames)]), { shape: [1], dtype: "int64" });
      const out = forward(new EagerOps(params, false), cfg, x, len);
      const data = out.tgtLogits.data() as Float32Array;
      disposeAll([x, len, out]);
      return data;
    });
    assert.equal(theirs.length, ours.length, `${label}: logits size`);
    let max = 0;
    for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs((ours[i] as number) - (theirs[i] as number)));
    assert.ok(max < 1e-4, `${label}: max |Δ logit| = ${max}`);
  } finally {
    disposeAll(params);
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the PyTorch script computes the same logits as the TypeScript model (tiny preset)", () => {
  parity(withVocabSize(loadConfig("tiny"), 50), "tiny");
});

test("... also with LiSA sharing probabilities and without the adapter", () => {
  const tiny = loadConfig("tiny");
  const cfg = validateConfig({ ...tiny, vocabSize: 40, adapter: false, lisa: { ...tiny.lisa, shareSpace: "probs", activation: "swish" } });
  parity(cfg, "probs");
});
