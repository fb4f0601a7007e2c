// `nast export -o` where a file is in the way: a clear message naming the path (not a raw EEXIST/ENOTDIR),
// exit status 1, and the file left as it was.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, loadModelConfig, withVocabSize, type NastConfig } from "../../src/model/config.ts";
import { trainSpm, writeRandomCheckpoint } from "../infer/fixtures.ts";
import { runNast } from "../helpers/cli.ts";
import { loadModelPackage } from "../../src/formats/model-package.ts";

let dir: string;
let ckpt: string;
let spm: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "nast-export-cli-"));
  spm = trainSpm(join(dir, "spm"), 64);
  ckpt = join(dir, "ckpt.safetensors");
  writeRandomCheckpoint(ckpt, withVocabSize(loadConfig("tiny"), 64));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("nast export -o onto an existing file, or below one, says so clearly and leaves the file alone", () => {
  const file = join(dir, "model.txt");
  writeFileSync(file, "keep me\n");
  const onto = runNast(["export", ckpt, "-o", file, "--spm", spm]);
  assert.equal(onto.code, 1, onto.stderr);
  assert.equal(onto.stderr, `nast: ${file}: exists and is not a directory; -o names the model package directory (created if missing): remove the file or choose another -o MODEL_DIR\n`);
  const below = runNast(["export", ckpt, "-o", join(file, "model"), "--spm", spm]);
  assert.equal(below.code, 1, below.stderr);
  assert.match(below.stderr, /model\.txt\/model: cannot create the model package directory there: a part of that path is a file, not a directory/);
  assert.doesNotMatch(onto.stderr + below.stderr, /EEXIST|ENOTDIR/);
  assert.equal(readFileSync(file, "utf8"), "keep me\n");
  // A directory (new or existing) is what -o takes.
  const ok = runNast(["export", ckpt, "-o", join(dir, "model"), "--spm", spm]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("nast export keeps an existing package unless --force, and never writes through a link", () => {
  const pkg = join(dir, "kept");
  assert.equal(runNast(["export", ckpt, "-o", pkg, "--spm", spm]).code, 0);
  const before = readFileSync(join(pkg, "model.onnx"));
  writeFileSync(join(pkg, "config.json"), "{}\n"); // marks the package: a refused export must leave it so
  const again = runNast(["export", ckpt, "-o", pkg, "--spm", spm]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /kept: already holds a model package \(model\.onnx\); it is kept as it is: .*--force/);
  assert.equal(readFileSync(join(pkg, "config.json"), "utf8"), "{}\n");
  const forced = runNast(["export", ckpt, "-o", pkg, "--spm", spm, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(readFileSync(join(pkg, "model.onnx")), before);
  assert.notEqual(readFileSync(join(pkg, "config.json"), "utf8"), "{}\n");

  // -o as a link to a directory: refused, the target untouched.
  const target = join(dir, "elsewhere");
  mkdirSync(target);
  symlinkSync(target, join(dir, "link"));
  const linked = runNast(["export", ckpt, "-o", join(dir, "link"), "--spm", spm]);
  assert.equal(linked.code, 1);
  assert.match(linked.stderr, /link: is a symbolic link/);
  assert.deepEqual(readdirSync(target), []);
  // A link planted in the package where a file goes is replaced, not written through.
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "untouched\n");
  rmSync(join(pkg, "spm.model"));
  symlinkSync(victim, join(pkg, "spm.model"));
  assert.equal(runNast(["export", ckpt, "-o", pkg, "--spm", spm, "--force"]).code, 0);
  assert.equal(readFileSync(victim, "utf8"), "untouched\n");
  assert.ok(!lstatSync(join(pkg, "spm.model")).isSymbolicLink());
  assert.deepEqual(readdirSync(pkg).filter((f) => f.includes(".tmp-")), []);
});

test("nast export --blank-penalty X writes the package's decoding default into config.json only; refused for an autoregressive model", () => {
  const plain = join(dir, "plain-decoding");
  const tuned = join(dir, "tuned-decoding");
  assert.equal(runNast(["export", ckpt, "-o", plain, "--spm", spm]).code, 0);
  const r = runNast(["export", ckpt, "-o", tuned, "--spm", spm, "--blank-penalty", "0.75"]);
  assert.equal(r.code, 0, r.stderr);
  const config = (pkg: string) => JSON.parse(readFileSync(join(pkg, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(config(plain).decoding, undefined);
  assert.deepEqual(config(tuned).decoding, { blankPenalty: 0.75 });
  assert.deepEqual((loadModelPackage(tuned).cfg as NastConfig).decoding, { blankPenalty: 0.75 });
  assert.deepEqual(readFileSync(join(tuned, "model.onnx")), readFileSync(join(plain, "model.onnx")), "the graph is the same");
  const bad = runNast(["export", ckpt, "-o", join(dir, "bad-decoding"), "--spm", spm, "--blank-penalty", "much"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--blank-penalty must be a number, got "much"/);
  const arCkpt = join(dir, "ar.safetensors");
  writeRandomCheckpoint(arCkpt, withVocabSize(loadModelConfig("ar-tiny"), 64));
  const ar = runNast(["export", arCkpt, "-o", join(dir, "ar-decoding"), "--spm", spm, "--blank-penalty", "1"]);
  assert.equal(ar.code, 2);
  assert.match(ar.stderr, /--blank-penalty: .*ar\.safetensors is an autoregressive model, whose decoder has no CTC blank to lower/);
  assert.ok(!existsSync(join(dir, "ar-decoding")), "nothing written");
});
