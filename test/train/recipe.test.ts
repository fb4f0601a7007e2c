// recipes/mustc/run.sh end to end on the CPU: a tiny synthetic corpus in MuST-C layout goes through every
// stage (1 prep, 2 train with the tiny preset, 3 average, 4 export, 5 eval); a second run skips every stage
// because its output is complete. A training stopped by Ctrl-C (SIGINT to the recipe's process group) or by
// the end of a --max-seconds slot does not count as done: the recipe stops after stage 2 and the next run
// resumes it. Paths holding spaces and `$(...)` work, and the train.sh replay file runs nothing they hold.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nast, readLog, REPO, SHORT_SENTENCES } from "./fixture.ts";
import { NAST_COMMAND } from "../helpers/cli.ts";

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

const TRAIN_ARGS = "--max-steps 40 --valid-every 20 --threads 1 --warmup 10 --lr 5e-3 --no-progress";
const ENV = { ...process.env, NAST: NAST_COMMAND };

interface RecipeRun {
  corpus?: string;
  /** The folder of data/ and exp/. */
  base?: string;
  trainArgs?: string;
  extra?: string[];
}

function recipeArgs(o: RecipeRun): string[] {
  const base = o.base ?? dir;
  return [
    join(REPO, "recipes/mustc/run.sh"),
    "--corpus-root", o.corpus ?? corpus, "--pair", "en-es", "--preset", "tiny", "--device", "cpu", "--vocab", "60",
    "--data-dir", join(base, "data"), "--exp-dir", join(base, "exp"), "--n-average", "2",
    "--max-frames", "1200", "--update-frames", "1200",
    "--train-args", o.trainArgs ?? TRAIN_ARGS,
    "--eval-args", "--threads 1",
    ...(o.extra ?? []),
  ];
}

function recipe(o: RecipeRun = {}): { status: number; out: string } {
  const r = spawnSync("bash", recipeArgs(o), { cwd: REPO, encoding: "utf8", env: ENV, maxBuffer: 64 * 2 ** 20 });
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

/** A directory under the test's folder whose path holds spaces and a command substitution. */
function hostileBase(name: string, marker: string): string {
  return join(dir, `${name} with spaces $(touch ${marker})`);
}

test("Ctrl-C during training stops the recipe (exit 130, no .train.done, nothing after stage 2); the rerun resumes", async () => {
  const marker = join(dir, "pwned-sigint");
  const base = hostileBase("sigint", marker);
  const exp = join(base, "exp");
  const log = join(exp, "train.log.jsonl");
  const trainArgs = "--max-steps 400 --valid-every 1000 --threads 1 --warmup 10 --lr 5e-3 --no-progress";
  // Ctrl-C in a terminal signals the whole foreground process group: bash and the nast train it waits for.
  const first = await new Promise<{ code: number | null; signal: string | null; out: string }>((resolve, reject) => {
    const child = spawn("bash", recipeArgs({ base, trainArgs }), { cwd: REPO, env: ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    let sent = false;
    const timer = setInterval(() => {
      if (!sent && existsSync(log) && readFileSync(log, "utf8").includes('"event":"train"')) {
        sent = true;
        process.kill(-child.pid!, "SIGINT");
      }
    }, 5);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, out });
    });
  });
  assert.equal(first.code, 130, `the recipe exits with nast train's status for SIGINT\n${first.out}`);
  assert.ok(!existsSync(join(exp, ".train.done")), "a stopped training is not marked done");
  assert.ok(!existsSync(join(exp, "avg-best2.safetensors")), "stage 3 did not run");
  assert.doesNotMatch(first.out, /Stage 3:/);
  const stopped = readLog(exp).filter((r) => r.event === "done").at(-1)!;
  assert.equal(stopped.reason, "stopped by SIGINT");
  const at = stopped.step as number;
  assert.ok(at >= 1 && at < 400, `stopped at update ${at}`);

  // The rerun resumes from the checkpoint written at the stop (shorter now: 60 updates in all).
  const again = recipe({ base, trainArgs: trainArgs.replace("--max-steps 400", `--max-steps ${at + 20}`), extra: ["--stop-stage", "2"] });
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /Stage 2: resuming from /);
  const records = readLog(exp);
  assert.ok(records.some((r) => r.event === "resume" && r.step === at), "the rerun continued from the stop");
  assert.equal(records.filter((r) => r.event === "done").at(-1)!.reason, `reached --max-steps ${at + 20}`);
  assert.ok(existsSync(join(exp, ".train.done")), "a finished training is marked done");
  assert.doesNotMatch(again.out, /warning/, "resuming with the same preset warns of nothing");
  assert.ok(!existsSync(marker), "no command in a path was run");
});

test("a --max-seconds slot is not the end of training: the recipe stops after stage 2 (exit 0), the next run resumes", () => {
  const base = join(dir, "slot");
  const exp = join(base, "exp");
  const slot = recipe({ base, trainArgs: `${TRAIN_ARGS} --max-seconds 0.001` });
  assert.equal(slot.status, 0, slot.out);
  assert.match(slot.out, /Stage 2: training stopped at its --max-seconds slot, not finished; run the recipe again to resume it/);
  assert.doesNotMatch(slot.out, /Stage 3:|Successfully finished/);
  assert.ok(!existsSync(join(exp, ".train.done")));
  const step = readLog(exp).filter((r) => r.event === "done").at(-1)!.step as number;
  assert.ok(step < 40, `the slot ended at update ${step}`);
  const rest = recipe({ base, extra: ["--stop-stage", "2"] });
  assert.equal(rest.status, 0, rest.out);
  assert.match(rest.out, /Stage 2: resuming from /);
  assert.ok(existsSync(join(exp, ".train.done")));
  assert.equal(readLog(exp).filter((r) => r.event === "done").at(-1)!.reason, "reached --max-steps 40");
});

test("paths with spaces and $(...) go through every stage, and train.sh replays them without running anything", () => {
  const marker = join(dir, "pwned-paths");
  const hostileCorpus = hostileBase("corpus", marker);
  cpSync(corpus, hostileCorpus, { recursive: true });
  const base = hostileBase("work", marker);
  const exp = join(base, "exp");
  const r = recipe({ corpus: hostileCorpus, base });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /Successfully finished/);
  assert.ok(existsSync(join(exp, "eval-tst-COMMON", "report.json")), "stage 5 wrote its report");
  const replay = join(exp, "train.sh");
  assert.match(readFileSync(replay, "utf8"), /^#!\/usr\/bin\/env bash\n/);
  // Replayed as it is, it refuses to start again over the checkpoints; with --resume it continues (and is done).
  const plain = spawnSync("bash", [replay], { cwd: dir, encoding: "utf8", env: ENV });
  assert.equal(plain.status, 2, plain.stderr);
  assert.match(plain.stderr, /already holds checkpoints: pass --resume/);
  const resumed = spawnSync("bash", [replay, "--resume"], { cwd: dir, encoding: "utf8", env: ENV });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /reached --max-steps 40/);
  assert.ok(!existsSync(marker), "no command in a path was run, by the recipe or by its replay file");
});

test("the recipe's update is 320k frames whatever the number of ranks: --accum is update_frames / (max_frames x nproc)", () => {
  const replayOf = (name: string, ...extra: string[]) => {
    const exp = join(dir, name);
    const r = spawnSync("bash", [join(REPO, "recipes/mustc/run.sh"), "--stage", "2", "--stop-stage", "2", "--data-dir", join(dir, "data"), "--exp-dir", exp, "--nast", "true", ...extra], { cwd: REPO, encoding: "utf8" });
    return { status: r.status, stderr: r.stderr, replay: r.status === 0 ? readFileSync(join(exp, "train.sh"), "utf8") : "" };
  };
  assert.match(replayOf("one-gpu").replay, / --max-frames 40000 --accum 8 /);
  assert.match(replayOf("two-gpus", "--nproc", "2").replay, / --nproc 2 --max-frames 40000 --accum 4 /);
  assert.match(replayOf("eight-gpus", "--nproc", "8").replay, / --nproc 8 --max-frames 40000 --accum 1 /);
  const bad = replayOf("three-gpus", "--nproc", "3");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--update-frames \(320000\) must be a multiple of --max-frames \(40000\) x --nproc \(3\)/);
});
