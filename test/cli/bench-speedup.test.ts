// `nast bench speedup` on a prepared espeak-ng split with random-weight tiny models (speed and BLEU do not need
// training to be measured): the report holds the three systems, its speed-ups are the ratios of their times, the
// length groups cover every utterance, the BLEU it reports is `nast score`'s on the hypotheses it writes, and the
// libtorch engine on the checkpoints finds exactly the onnxruntime engine's hypotheses on the packages.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportModel } from "../../src/export/exporter.ts";
import { toHostTensors } from "../../src/export/checkpoint.ts";
import { randomStateDict } from "../../src/export/random-state.ts";
import { encodeSafetensors } from "../../src/formats/safetensors.ts";
import { loadConfig, loadModelConfig, withVocabSize, type ModelConfig } from "../../src/model/config.ts";
import { EOS_ID } from "../../src/model/token-ids.ts";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { nast, shortCorpus, type Data } from "../train/fixture.ts";

let d: Data;
const model = { nast: { ckpt: "", pkg: "" }, ar: { ckpt: "", pkg: "" } };

function exportRandom(cfg: ModelConfig, name: string, seed: number): { ckpt: string; pkg: string } {
  const state = randomStateDict(cfg, seed);
  const embed = state.get("decoder.embed.weight");
  // A random decoder ends every translation at once through its tied </s> embedding; a zero row lets it speak.
  if (embed !== undefined) new Float32Array(embed.data.buffer).fill(0, EOS_ID * cfg.dModel, (EOS_ID + 1) * cfg.dModel);
  const ckpt = join(d.dir, `${name}.safetensors`);
  writeFileSync(ckpt, encodeSafetensors(toHostTensors(state), { "nast.config": JSON.stringify(cfg) }));
  const pkg = join(d.dir, `pkg-${name}`);
  exportModel({ checkpoint: ckpt, outDir: pkg, spm: join(d.data, "spm.model") });
  return { ckpt, pkg };
}

before(() => {
  d = shortCorpus();
  const vocab = SentencePiece.load(join(d.data, "spm.model")).vocabSize;
  model.nast = exportRandom(withVocabSize(loadConfig("tiny"), vocab), "nast", 1);
  model.ar = exportRandom(withVocabSize(loadModelConfig("ar-tiny"), vocab), "ar", 2);
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

/** The onnxruntime run both tests read (run once). */
function onnxOut(): string {
  const out = join(d.dir, "speed-onnx");
  if (onnxDone) return out;
  const r = nast(["bench", "speedup", "--nast", model.nast.pkg, "--ar", model.ar.pkg, "--data", d.data, "--split", "train", "--beam", "3", "--threads", "1", "--bootstrap", "200", "--lengths", "5,10", "--json", "-o", out]);
  writeFileSync(join(out, "stdout.json"), r.stdout);
  onnxDone = true;
  return out;
}
let onnxDone = false;

interface Report {
  setting: { engine: string; utterances: number; batch: string; beam: number };
  systems: { name: string; seconds: number; bleu: number; pValue: number | null; meanTokens: number }[];
  speedup: Record<string, number>;
  arEncoderSeconds: number;
  ceiling: Record<string, number>;
  byLength: { tokens: string; utterances: number; seconds: Record<string, number>; speedup: Record<string, number> }[];
}

test("onnxruntime at batch 1: three systems, consistent ratios and groups, BLEU as nast score computes it", () => {
  const out = onnxOut();
  const report = JSON.parse(readFileSync(join(out, "stdout.json"), "utf8")) as Report;
  assert.deepEqual(JSON.parse(readFileSync(join(out, "speedup.json"), "utf8")), report);
  assert.equal(report.setting.utterances, 16);
  assert.equal(report.setting.batch, "1 utterance");
  assert.deepEqual(report.systems.map((s) => s.name), ["NAST greedy", "AR greedy", "AR beam 3"]);
  const secs = Object.fromEntries(report.systems.map((s) => [s.name, s.seconds]));
  for (const ar of ["AR greedy", "AR beam 3"]) assert.ok(Math.abs(report.speedup[ar]! - secs[ar]! / secs["NAST greedy"]!) < 1e-9);
  // The ceiling: each AR system's time over its encoder pass alone (timed on the same batches).
  assert.ok(report.arEncoderSeconds > 0);
  for (const ar of ["AR greedy", "AR beam 3"]) assert.ok(Math.abs(report.ceiling[ar]! - secs[ar]! / report.arEncoderSeconds) < 1e-9);
  assert.ok(report.ceiling["AR beam 3"]! > 1, "the decoder's steps cost something beyond the encoder");
  assert.ok(!existsSync(join(out, "hyp.ar-encoder.txt")), "the encoder pass alone translates nothing");
  assert.equal(report.byLength.reduce((n, g) => n + g.utterances, 0), 16);
  for (const g of report.byLength) assert.match(g.tokens, /^(1-5|6-10|11\+)$/);
  assert.equal(report.systems.at(-1)!.pValue, null, "AR beam is the baseline");
  assert.ok(report.systems.some((s) => s.name.startsWith("AR") && s.meanTokens > 0), "the AR model translates");
  for (const [system, file] of [["NAST greedy", "hyp.nast-greedy.txt"], ["AR beam 3", "hyp.ar-beam-3.txt"]] as const) {
    const score = JSON.parse(nast(["score", join(out, "ref.txt"), "-i", join(out, file), "-f", "json", "-w", "6"]).stdout) as { score: number };
    assert.ok(Math.abs(score.score - report.systems.find((s) => s.name === system)!.bleu) < 1e-6, system);
  }
  const md = readFileSync(join(out, "speedup.md"), "utf8");
  assert.match(md, /\| AR beam 3 \| [\d.]+ \| [\d.]+ \| [\d.]+x \|/);
  assert.match(md, /The AR model's encoder pass alone took [\d.]+ s: no model with this acoustic encoder can be more than [\d.]+x faster than AR greedy or [\d.]+x faster than AR beam 3 here\./);
});

test("libtorch batched by frames finds the onnxruntime engine's hypotheses", () => {
  const onnx = onnxOut();
  const torch = join(d.dir, "speed-torch");
  const common = ["--data", d.data, "--split", "train", "--beam", "3", "--threads", "1", "--bootstrap", "50", "--json"];
  const r = JSON.parse(nast(["bench", "speedup", "--engine", "torch", "--nast", model.nast.ckpt, "--ar", model.ar.ckpt, "--batch-frames", "2000", ...common, "-o", torch]).stdout) as Report;
  assert.equal(r.setting.batch, "2000 frames");
  for (const file of ["hyp.nast-greedy.txt", "hyp.ar-greedy.txt", "hyp.ar-beam-3.txt"]) {
    assert.deepEqual(readFileSync(join(torch, file), "utf8").split("\n"), readFileSync(join(onnx, file), "utf8").split("\n"), file);
  }
});

test("bench speedup refuses the models in the wrong places, by name", () => {
  const r = nast(["bench", "speedup", "--nast", model.ar.pkg, "--ar", model.nast.pkg, "--data", d.data, "--split", "train"], { allowFail: true });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--nast .*pkg-ar: is an autoregressive model; give the CTC-NAST package/);
  const spin = nast(["bench", "speedup", "--nast", model.nast.pkg, "--ar", model.ar.pkg, "--data", d.data, "--engine", "torch", "--spin"], { allowFail: true });
  assert.equal(spin.status, 2);
  assert.match(spin.stderr, /--spin: onnxruntime's thread spinning; the torch engine has none/);
});
