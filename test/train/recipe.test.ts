// recipes/mustc/run.sh end to end on the CPU: a tiny synthetic corpus in MuST-C layout goes through every
// stage (1 prep, 2 train with the tiny preset, 3 average, 4 export, 5 eval); a second run skips every stage
// because its output is complete.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nast, REPO, SHORT_SENTENCES } from "./fixture.ts";

let dir: string;
let corpus: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "nast-recipe-"));
  const text = join(dir, "sentences.txt");
  writeFileSync(text, SHORT_SENTENCES.join("\n") + "\n");
  corpus = join(dir, "corpus");
  nast(["corpus", "synth", "-o", corpus, "--text", text, "--sentences", String(SHORT_SENTENCES.length), "--engines", "espeak", "--no-augment", "--seed", "5"]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function recipe(): { status: number; out: string } {
  const r = spawnSync(
    "bash",
    [
      join(REPO, "recipes/mustc/run.sh"),
      "--corpus-root", corpus, "--pair", "en-es", "--preset", "tiny", "--device", "cpu", "--vocab", "60",
      "--data-dir", join(dir, "data"), "--exp-dir", join(dir, "exp"), "--n-average", "2",
      "--train-args", "--max-steps 40 --valid-every 20 --threads 1 --warmup 10 --lr 5e-3 --max-frames 1200 --no-progress",
      "--eval-args", "--threads 1",
    ],
    { cwd: REPO, encoding: "utf8", env: { ...process.env, NAST: `${process.execPath} --import tsx ${join(REPO, "src/cli/main.ts")}` }, maxBuffer: 64 * 2 ** 20 },
  );
  return { status: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

test("recipes/mustc/run.sh runs every stage with the tiny preset, then skips them all", () => {
  const first = recipe();
  if (process.env.NAST_TEST_VERBOSE) process.stderr.write(first.out);
  assert.equal(first.status, 0, first.out);
  for (const n of [1, 2, 3, 4, 5]) assert.match(first.out, new RegExp(`\\(run\\.sh:\\d+\\) Stage ${n}:`), `stage ${n} logged`);
  const exp = join(dir, "exp");
  assert.ok(existsSync(join(dir, "data", ".prep.done")));
  assert.ok(existsSync(join(exp, ".train.done")));
  assert.ok(existsSync(join(exp, "train.sh")), "stage 2 writes a replay script");
  assert.ok(existsSync(join(exp, "avg-best2.safetensors")));
  assert.ok(existsSync(join(exp, "model", "model.onnx")));
  const report = JSON.parse(readFileSync(join(exp, "eval-tst-COMMON", "report.json"), "utf8"));
  assert.equal(report.translated, 3, "every tst-COMMON segment translated");
  assert.equal(typeof report.metrics.bleu.score, "number");
  assert.match(report.metrics.bleu.signature, /^nrefs:1\|/);
  assert.match(first.out, /Successfully finished/);

  const second = recipe();
  assert.equal(second.status, 0, second.out);
  for (const n of [1, 2, 3, 4, 5]) assert.match(second.out, new RegExp(`Stage ${n}: .*(skipping|up to date)`), `stage ${n} skipped`);
});
