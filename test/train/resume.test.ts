// `nast train --resume` where there is nothing to resume: a missing or empty EXP_DIR, or one holding a run that
// stopped before its first checkpoint, starts the run (recipes/synthetic/gpu-train.sh relies on that); any other
// directory without checkpoints/latest.json (a mistyped -o, or checkpoints whose latest.json is gone) is an error
// naming it, and nothing is written there. On a real resume, a -c that is not the run's config is ignored with a
// warning that says how it differs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listCheckpoints } from "../../src/train/checkpoint.ts";
import { nast, readLog, shortCorpus, type Data } from "./fixture.ts";

let d: Data;
const COMMON = ["--threads", "1", "--no-progress", "--max-frames", "1200", "--warmup", "20", "--lr", "5e-3", "--valid-every", "2", "--valid-max", "1"];
const train = (exp: string, ...more: string[]) => nast(["train", "--resume", "-d", d.data, "-o", exp, ...COMMON, ...more], { allowFail: true });

before(() => {
  d = shortCorpus();
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

test("--resume starts the run where EXP_DIR is missing, empty, or holds a run stopped before its first checkpoint", () => {
  const missing = join(d.dir, "missing");
  const r1 = train(missing, "-c", "tiny", "--max-steps", "2");
  assert.equal(r1.status, 0, r1.stderr);
  assert.deepEqual(listCheckpoints(missing).map((c) => c.step), [2]);

  const empty = join(d.dir, "empty");
  mkdirSync(join(empty, "checkpoints"), { recursive: true });
  const r2 = train(empty, "-c", "tiny", "--max-steps", "2");
  assert.equal(r2.status, 0, r2.stderr);

  const early = join(d.dir, "early");
  mkdirSync(early);
  writeFileSync(join(early, "train.log.jsonl"), `${JSON.stringify({ event: "start", data: d.data })}\n`);
  writeFileSync(join(early, "config.json"), "{}\n");
  const r3 = train(early, "-c", "tiny", "--max-steps", "2");
  assert.equal(r3.status, 0, r3.stderr);
  assert.deepEqual(listCheckpoints(early).map((c) => c.step), [2]);
});

test("--resume on a directory that holds no run of nast train is an error naming it; nothing is written there", () => {
  const typo = join(d.dir, "not an experiment");
  mkdirSync(typo);
  writeFileSync(join(typo, "notes.txt"), "mine\n");
  const r = train(typo, "-c", "tiny", "--max-steps", "2");
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--resume: .*not an experiment holds no checkpoint \(no checkpoints\/latest\.json\) and is not an experiment directory of nast train \(it holds notes\.txt\); check the -o path/);
  assert.deepEqual(readdirSync(typo), ["notes.txt"]);
});

test("--resume where checkpoints remain but latest.json is gone is an error, not a fresh run over them", () => {
  const exp = join(d.dir, "lost-latest");
  assert.equal(train(exp, "-c", "tiny", "--max-steps", "2").status, 0);
  rmSync(join(exp, "checkpoints", "latest.json"));
  const r = train(exp, "-c", "tiny", "--max-steps", "4");
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--resume: .*lost-latest holds checkpoints \(the last: .*ckpt-00000002\.safetensors\) but no checkpoints\/latest\.json/);
  assert.deepEqual(listCheckpoints(exp).map((c) => c.step), [2], "the checkpoints are untouched");
});

test("on a real resume a -c that is not the run's config is ignored with a warning; the same config gives none", () => {
  const exp = join(d.dir, "warn");
  assert.equal(train(exp, "-c", "tiny", "--max-steps", "2").status, 0);
  const same = train(exp, "-c", "tiny", "--max-steps", "3");
  assert.equal(same.status, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /warning/);
  const other = train(exp, "-c", "small", "--max-steps", "4");
  assert.equal(other.status, 0, other.stderr);
  assert.match(other.stderr, /nast train: warning: -c small is ignored: --resume continues .*warn with the config its checkpoint holds, and small differs from it in: .*dModel/);
  const log = readLog(exp);
  assert.ok(log.some((r) => r.event === "warning"), "the warning is in the log too");
  assert.equal(log.filter((r) => r.event === "resume").at(-1)!.params, log.find((r) => r.event === "start")!.params, "the run kept its own (tiny) model");
  assert.ok(existsSync(join(exp, "checkpoints", "latest.json")));
  assert.equal(listCheckpoints(exp).at(-1)!.step, 4);
});
