// The tiny preset memorises 16 synthetic utterances on the CPU: after training, greedy CTC decoding of each
// training utterance (target head, collapse repeats, drop blanks, SentencePiece decode) is its reference
// translation, word for word. A model or trainer bug that stops learning (a broken gradient, a wrong CTC
// target, a curriculum that leaks the answer only in training) fails here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openFeatureStore } from "../../src/data/feature-store.ts";
import { validateConfig } from "../../src/model/config.ts";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { setNumThreads } from "../../src/torch/index.ts";
import { loadLatestCheckpoint } from "../../src/train/checkpoint.ts";
import { fromHost } from "../../src/train/host-tensors.ts";
import { validate } from "../../src/train/validate.ts";
import { nast, readLog, shortCorpus, type Data } from "./fixture.ts";

let d: Data;
before(() => {
  d = shortCorpus();
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

test("tiny overfits 16 utterances until greedy decoding reproduces their translations", () => {
  const exp = join(d.dir, "exp");
  // Validation on the training split itself; no SpecAugment: memorising is the point.
  nast([
    "train", "-c", "tiny", "-d", d.data, "-o", exp, "--threads", "1", "--no-progress",
    "--max-steps", "250", "--max-epochs", "1000", "--warmup", "20", "--lr", "5e-3", "--max-frames", "4000",
    "--valid-every", "50", "--valid-split", "train", "--no-specaugment",
  ]);
  const valid = readLog(exp).filter((r) => r.event === "valid");
  assert.equal(valid.at(-1)!.bleu as number > 99.99, true, `train-set BLEU by step: ${valid.map((r) => `${r.step}:${(r.bleu as number).toFixed(1)}`).join(" ")}`);

  setNumThreads(1);
  const ckpt = loadLatestCheckpoint(exp)!;
  const cfg = validateConfig(ckpt.config);
  const params = new Map([...ckpt.model].map(([name, h]) => [name, fromHost(h, "cpu", name)]));
  const store = openFeatureStore(join(d.data, "train"));
  assert.equal(store.size, 16);
  const result = validate({
    cfg,
    params,
    device: "cpu",
    bf16: false,
    store,
    spm: SentencePiece.load(join(d.data, "spm.model")),
    maxFrames: 4000,
    limit: null,
  });
  const refs = Array.from({ length: store.size }, (_, i) => store.meta(i).tgt);
  assert.deepEqual(result.hyps, refs);
  assert.ok(result.srcWer < 10, `source WER ${result.srcWer}`);
  store.close();
});
