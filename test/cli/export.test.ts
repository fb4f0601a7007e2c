// `nast export -o` where a file is in the way: a clear message naming the path (not a raw EEXIST/ENOTDIR),
// exit status 1, and the file left as it was.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, withVocabSize } from "../../src/model/config.ts";
import { trainSpm, writeRandomCheckpoint } from "../infer/fixtures.ts";
import { runNast } from "../helpers/cli.ts";

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
