// `nast train` on real (synthetic espeak-ng) data with the tiny preset on the CPU: the loss falls and dev BLEU
// leaves 0; a run killed with SIGKILL and resumed gives exactly the uninterrupted run's losses and weights;
// the non-finite guard skips a poisoned batch and stops a hopeless run with a clear message; a LiSA
// retro-fit trains only the LiSA parameters until it is told to unfreeze.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, openSync, readFileSync, rmSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, toFloat64 } from "../../src/formats/safetensors.ts";
import { listCheckpoints } from "../../src/train/checkpoint.ts";
import { lisaParamNames } from "../../src/model/params.ts";
import { loadConfig } from "../../src/model/config.ts";
import { lossByStep, nast, readLog, shortCorpus, type Data } from "./fixture.ts";
import { startNast } from "../helpers/cli.ts";

let d: Data;
// One thread: the tests must not depend on (or fight over) the machine's cores.
const COMMON = ["--threads", "1", "--no-progress", "--max-frames", "1200", "--warmup", "20", "--lr", "5e-3", "--max-epochs", "1000"];

before(() => {
  d = shortCorpus();
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

test("tiny preset: the loss falls, dev BLEU rises above 0, the log holds every term", () => {
  const exp = join(d.dir, "exp-falls");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", exp, "--max-steps", "120", "--valid-every", "60", "--also-validate", "tst-COMMON", ...COMMON]);
  const log = readLog(exp);
  const train = log.filter((r) => r.event === "train");
  assert.equal(train.length, 120);
  const mean = (rs: typeof train) => rs.reduce((a, r) => a + (r.loss as number), 0) / rs.length;
  const first = mean(train.slice(0, 10));
  const last = mean(train.slice(-10));
  assert.ok(last < 0.5 * first, `loss ${first.toFixed(2)} -> ${last.toFixed(2)}`);
  for (const key of ["loss_src", "loss_src_inter", "loss_tgt", "loss_tgt_inter", "lr", "gradNorm", "framesPerSecond", "replaced", "infeasible", "rssMiB"]) {
    assert.equal(typeof train[5]![key], "number", `train record has ${key}`);
  }
  // The curriculum replaces fewer frames as the model makes fewer mistakes (docs/model.md §5.2).
  const replaced = (rs: typeof train) => rs.reduce((a, r) => a + (r.replaced as number), 0) / rs.length;
  assert.ok(replaced(train.slice(-10)) < replaced(train.slice(0, 10)), "replaced-frame ratio falls");
  const valid = log.filter((r) => r.event === "valid");
  assert.deepEqual(valid.map((r) => r.step), [60, 120]);
  assert.ok((valid.at(-1)!.bleu as number) > 0, `dev BLEU ${valid.at(-1)!.bleu}`);
  // --also-validate: the same validation of another split at each step, for its curve only.
  const extra = log.filter((r) => r.event === "valid_extra");
  assert.deepEqual(extra.map((r) => [r.step, r.split, r.utterances]), [[60, "tst-COMMON", 3], [120, "tst-COMMON", 3]]);
  assert.equal(typeof extra[1]!.srcWer, "number");
  assert.deepEqual(listCheckpoints(exp).map((c) => c.step), [60, 120]);
  const cfg = JSON.parse(readFileSync(join(exp, "config.json"), "utf8"));
  assert.equal(cfg.train.lr, 5e-3, "resolved config written with the settings");
  nast(["plot", exp]);
  assert.ok(existsSync(join(exp, "curves.png")));
});

/** Runs `nast train`, sends it `signal` once `ready()` holds (polled every 5 ms); resolves with how it ended. */
function trainAndSignal(args: string[], signal: NodeJS.Signals, ready: () => boolean): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = startNast(["train", ...args], { stdio: "ignore" });
    let sent = false;
    const timer = setInterval(() => {
      if (!sent && ready()) {
        sent = true;
        child.kill(signal);
      }
    }, 5);
    child.on("error", reject);
    child.on("exit", (code, got) => {
      clearInterval(timer);
      resolve({ code, signal: got });
    });
  });
}

test("a run killed with SIGKILL and resumed equals the uninterrupted run", async () => {
  const args = (exp: string) => ["-c", "tiny", "-d", d.data, "-o", exp, "--max-steps", "10", "--valid-every", "3", "--valid-max", "1", ...COMMON];
  const whole = join(d.dir, "exp-whole");
  nast(["train", ...args(whole)]);
  const killed = join(d.dir, "exp-killed");
  const ended = await trainAndSignal(args(killed), "SIGKILL", () => existsSync(join(killed, "checkpoints", "latest.json")));
  assert.equal(ended.signal, "SIGKILL", "the run was killed before it finished");
  const before = listCheckpoints(killed).at(-1)!.step;
  assert.ok(before < 10);
  const again = nast(["train", "-d", d.data, "-o", killed, "--resume", "--threads", "1", "--no-progress"], { allowFail: true });
  assert.equal(again.status, 0, again.stderr);
  const a = lossByStep(readLog(whole));
  const b = lossByStep(readLog(killed));
  assert.equal(a.size, 10);
  for (let step = 1; step <= 10; step++) assert.equal(b.get(step), a.get(step), `loss at step ${step} (resumed from ${before})`);
  assert.ok(readLog(killed).some((r) => r.event === "resume" && r.step === before));
  // Same weights, bit for bit.
  const wa = readSafetensors(listCheckpoints(whole).at(-1)!.path).tensors;
  const wb = readSafetensors(listCheckpoints(killed).at(-1)!.path).tensors;
  assert.equal(wb.size, wa.size);
  for (const [name, t] of wa) assert.deepEqual(wb.get(name)!.bytes, t.bytes, name);
  const refused = nast(["train", ...args(killed)], { allowFail: true });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /already holds checkpoints: pass --resume/);
});

test("SIGTERM (exit 143) and --max-seconds (exit 0) stop after the current update with a checkpoint; resuming loses nothing", async () => {
  const args = (exp: string) => ["-c", "tiny", "-d", d.data, "-o", exp, "--max-steps", "10", "--valid-every", "5", "--valid-max", "1", ...COMMON];
  const whole = join(d.dir, "exp-whole-term");
  nast(["train", ...args(whole)]);
  const stopped = join(d.dir, "exp-term");
  const log = join(stopped, "train.log.jsonl");
  const firstUpdate = () => existsSync(log) && readFileSync(log, "utf8").includes('"event":"train"');
  // Checkpointed, but not finished: 128 + 15, so that a script does not go on as if training had ended.
  assert.equal((await trainAndSignal(args(stopped), "SIGTERM", firstUpdate)).code, 143, "a stop by SIGTERM exits 143 after its checkpoint");
  const done = readLog(stopped).find((r) => r.event === "done")!;
  assert.equal(done.reason, "stopped by SIGTERM");
  const at = done.step as number;
  assert.ok(at >= 1 && at < 10, `stopped at update ${at}`);
  assert.equal(listCheckpoints(stopped).at(-1)!.step, at, "the last update is checkpointed");
  // A time slot of (almost) nothing: at most an update or so, then the same clean stop.
  nast(["train", "-d", d.data, "-o", stopped, "--resume", "--max-seconds", "0.001", "--threads", "1", "--no-progress"]);
  const slot = readLog(stopped).filter((r) => r.event === "done").at(-1)!;
  assert.equal(slot.reason, "reached --max-seconds 0.001");
  assert.ok((slot.step as number) >= at && (slot.step as number) < 10);
  assert.equal(listCheckpoints(stopped).at(-1)!.step, slot.step, "the slot's last update is checkpointed");
  nast(["train", "-d", d.data, "-o", stopped, "--resume", "--threads", "1", "--no-progress"]);
  const a = lossByStep(readLog(whole));
  const b = lossByStep(readLog(stopped));
  for (let step = 1; step <= 10; step++) assert.equal(b.get(step), a.get(step), `loss at step ${step}`);
  const bad = nast(["train", "-d", d.data, "-o", stopped, "--resume", "--max-seconds", "0"], { allowFail: true });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--max-seconds must be a positive number/);
});

/** A copy of the data directory with the features of the given train utterances set to NaN. */
function poisoned(name: string, which: (i: number) => boolean): string {
  const dir = join(d.dir, name);
  cpSync(d.data, dir, { recursive: true });
  const index = JSON.parse(readFileSync(join(dir, "train", "index.json"), "utf8"));
  assert.equal(index.dtype, "float32");
  const fd = openSync(join(dir, "train", "feats.bin"), "r+");
  for (let i = 0; i < index.count; i++) {
    if (!which(i)) continue;
    const n = index.columns.frames[i] * index.dim;
    writeSync(fd, Buffer.from(new Float32Array(n).fill(Number.NaN).buffer), 0, n * 4, index.columns.start[i] * 4);
  }
  closeSync(fd);
  return dir;
}

test("the non-finite guard skips a poisoned batch and stops a hopeless run", () => {
  const data = poisoned("data-nan1", (i) => i === 3);
  const exp = join(d.dir, "exp-nan1");
  nast(["train", "-c", "tiny", "-d", data, "-o", exp, "--valid-every", "1000", "--valid-max", "1", ...COMMON, "--max-epochs", "2", "--max-frames", "400"]);
  const log = readLog(exp);
  const bad = log.filter((r) => r.event === "bad_step");
  assert.equal(bad.length, 2, "the poisoned batch, once per epoch");
  const id = JSON.parse(readFileSync(join(data, "train", "index.json"), "utf8")).columns.id[3];
  for (const r of bad) assert.ok((r.utterances as string[]).includes(id), "the record names the poisoned utterance");
  const epochs = log.filter((r) => r.event === "epoch").map((r) => r.batches as number);
  assert.equal(log.filter((r) => r.event === "train").length, epochs[0]! + epochs[1]! - 2, "every other batch trained");
  const final = readSafetensors(listCheckpoints(exp).at(-1)!.path).tensors;
  for (const [name, t] of final) assert.ok(toFloat64(t).every(Number.isFinite), `${name} stays finite (batch-norm statistics too)`);

  const all = poisoned("data-nanall", () => true);
  const r = nast(["train", "-c", "tiny", "-d", all, "-o", join(d.dir, "exp-nanall"), "--max-steps", "5", "--max-bad-steps", "3", ...COMMON], { allowFail: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /3 consecutive updates had a non-finite loss or gradient/);
  assert.match(r.stderr, /--lr/);
});

test("LiSA retro-fit trains only the LiSA parameters, then everything after --unfreeze-after", () => {
  const base = join(d.dir, "nolisa.json");
  writeFileSync(base, JSON.stringify({ extends: "tiny", lisa: { acoustic: "", textual: "" } }));
  const src = join(d.dir, "exp-nolisa");
  nast(["train", "-c", base, "-d", d.data, "-o", src, "--max-steps", "4", "--valid-every", "1000", "--valid-max", "1", ...COMMON]);
  const from = listCheckpoints(src).at(-1)!.path;
  const source = readSafetensors(from).tensors;
  const lisa = new Set(lisaParamNames({ ...loadConfig("tiny"), vocabSize: 60 }));
  assert.ok(lisa.size > 0);

  const frozen = join(d.dir, "exp-retrofit");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", frozen, "--retrofit-lisa", from, "--max-steps", "3", "--valid-every", "1000", "--valid-max", "1", ...COMMON]);
  const out = readSafetensors(listCheckpoints(frozen).at(-1)!.path).tensors;
  for (const [name, t] of out) {
    if (lisa.has(name)) continue;
    if (name.includes("running_")) continue; // batch-norm statistics follow the data in train mode
    assert.ok(source.has(name), `${name} comes from the trained model (the full Q/K of LiSA layers are the KL teacher)`);
    assert.deepEqual(t.bytes, source.get(name)!.bytes, `${name} is frozen`);
  }
  // q_lr starts at zero (LiSA = previous layer's attention at initialisation); training moves it.
  const qlr = [...lisa].filter((n) => n.endsWith("q_lr.weight"));
  assert.ok(qlr.length > 0);
  for (const n of qlr) assert.ok(toFloat64(out.get(n)!).some((v) => v !== 0), `${n} trained`);
  const kl = readLog(frozen).filter((r) => r.event === "train").map((r) => r.loss_kl as number);
  assert.ok(kl.length === 3 && kl.every((v) => Number.isFinite(v) && v >= 0), `KL terms ${kl}`);

  const thawed = join(d.dir, "exp-retrofit-unfreeze");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", thawed, "--retrofit-lisa", from, "--unfreeze-after", "1", "--max-steps", "3", "--valid-every", "1000", "--valid-max", "1", ...COMMON]);
  const w = readSafetensors(listCheckpoints(thawed).at(-1)!.path).tensors;
  assert.notDeepEqual(w.get("acoustic.layers.0.ffn.fc1.weight")!.bytes, source.get("acoustic.layers.0.ffn.fc1.weight")!.bytes, "unfrozen");

  // The optimizer state beside a checkpoint is no model: it is refused, not silently replaced by random weights.
  const moments = from.replace(/\.safetensors$/, ".train.safetensors");
  assert.ok(existsSync(moments));
  const wrong = nast(["train", "-c", "tiny", "-d", d.data, "-o", join(d.dir, "exp-retrofit-wrong"), "--retrofit-lisa", moments, "--max-steps", "1", ...COMMON], { allowFail: true });
  assert.notEqual(wrong.status, 0);
  assert.ok(wrong.stderr.includes(moments), wrong.stderr);
  assert.match(wrong.stderr, /lacks \d+ weights of the model .*not its \.train\.safetensors optimizer state/);
});

test("--init starts a new run from a checkpoint or a model package's weights, fresh optimizer, own config", () => {
  const src = join(d.dir, "exp-init-source");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", src, "--max-steps", "6", "--valid-every", "1000", "--valid-max", "1", ...COMMON]);
  const trained = readSafetensors(listCheckpoints(src).at(-1)!.path).tensors;
  const pkg32 = join(d.dir, "pkg-init-fp32");
  const pkg16 = join(d.dir, "pkg-init-fp16");
  nast(["export", src, "-o", pkg32, "--spm", join(d.data, "spm.model")]);
  nast(["export", src, "-o", pkg16, "--fp16", "--spm", join(d.data, "spm.model")]);
  // One update at a vanishing learning rate: the run's weights are the source's, to the update's size.
  const tinyStep = ["--max-steps", "1", "--lr", "1e-12", "--warmup", "1", "--valid-every", "1000", "--valid-max", "1", "--threads", "1", "--no-progress"];
  const cases: [string, string, number][] = [
    ["checkpoint", src, 1e-6],
    ["package (fp32)", pkg32, 1e-6],
    ["package (fp16)", pkg16, 2e-3],
  ];
  for (const [label, from, tol] of cases) {
    const exp = join(d.dir, `exp-init-${label.replace(/\W+/g, "-")}`);
    nast(["train", "--init", from, "-d", d.data, "-o", exp, ...tinyStep]); // no -c: the model's own config
    assert.ok(readLog(exp).some((r) => r.event === "start" && typeof r.init === "string"), `${label}: the start record names the weights`);
    const got = readSafetensors(listCheckpoints(exp).at(-1)!.path).tensors;
    for (const [name, t] of trained) {
      if (t.dtype !== "F32" || name.includes("running_")) continue;
      const a = toFloat64(t);
      const b = toFloat64(got.get(name)!);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
      assert.ok(worst <= tol, `${label}: ${name} differs by ${worst}`);
    }
  }
  // The first loss of a fine-tuning run is the trained model's, far below a random start's.
  const first = (exp: string) => readLog(exp).find((r) => r.event === "train")!.loss as number;
  const fresh = join(d.dir, "exp-init-random");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", fresh, ...tinyStep]);
  assert.ok(first(join(d.dir, "exp-init-checkpoint")) < 0.8 * first(fresh), "starts where the source stopped");

  // A package's vocabulary must be the data's; the optimizer state is no model.
  const otherSpm = join(d.dir, "pkg-other-spm");
  cpSync(pkg32, otherSpm, { recursive: true });
  writeFileSync(join(otherSpm, "spm.model"), Buffer.concat([readFileSync(join(otherSpm, "spm.model")), Buffer.from([0])]));
  const bad = nast(["train", "--init", otherSpm, "-d", d.data, "-o", join(d.dir, "exp-init-bad"), ...tinyStep], { allowFail: true });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /is not the SentencePiece model of .*prepare the data with it/);
  assert.ok(!existsSync(join(d.dir, "exp-init-bad")), "a refused run leaves no experiment directory");
  const moments = listCheckpoints(src).at(-1)!.path.replace(/\.safetensors$/, ".train.safetensors");
  const opt = nast(["train", "--init", moments, "-c", "tiny", "-d", d.data, "-o", join(d.dir, "exp-init-opt"), ...tinyStep], { allowFail: true });
  assert.notEqual(opt.status, 0);
  assert.match(opt.stderr, /lacks \d+ weights of the model/);
  const both = nast(["train", "--init", src, "--retrofit-lisa", src, "-d", d.data, "-o", join(d.dir, "exp-init-both")], { allowFail: true });
  assert.equal(both.status, 2);
});

test("a model trained with --no-curriculum says so in its package; --init from it trains without it unless asked", () => {
  const src = join(d.dir, "exp-no-curriculum");
  const oneStep = ["--max-steps", "1", "--valid-every", "1000", "--valid-max", "1", "--threads", "1", "--no-progress"];
  nast(["train", "-c", "tiny", "-d", d.data, "-o", src, "--no-curriculum", ...oneStep]);
  const pkg = join(d.dir, "pkg-no-curriculum");
  nast(["export", src, "-o", pkg, "--spm", join(d.data, "spm.model")]);
  const packaged = JSON.parse(readFileSync(join(pkg, "config.json"), "utf8")) as { train: Record<string, unknown>; curriculum?: unknown };
  assert.equal(packaged.train.curriculum, false);
  assert.equal(packaged.curriculum, undefined, "the curriculum is a training setting, not the model's");
  const curriculumOf = (exp: string) => (readLog(exp).find((r) => r.event === "start")!.settings as { curriculum: boolean }).curriculum;
  const again = join(d.dir, "exp-init-no-curriculum");
  nast(["train", "--init", pkg, "-d", d.data, "-o", again, ...oneStep]);
  assert.equal(curriculumOf(again), false);
  const asked = join(d.dir, "exp-init-curriculum");
  nast(["train", "--init", pkg, "-d", d.data, "-o", asked, "--curriculum", ...oneStep]);
  assert.equal(curriculumOf(asked), true);
});

test("--train-talks: the run trains on the listed talks only, refuses a bad list, and a resume must read the same talks", () => {
  const talks = (JSON.parse(readFileSync(join(d.data, "train", "index.json"), "utf8")) as { columns: { talk: string[] } }).columns.talk;
  const names = [...new Set(talks)];
  assert.ok(names.length >= 2, `the short corpus has ${names.length} train talks`);
  const twoSteps = ["--max-steps", "2", "--valid-every", "1000", "--valid-max", "1", ...COMMON];
  const start = (exp: string) => readLog(exp).find((r) => r.event === "start")!;
  // Every talk listed, in another order and with a comment: the very run of no list.
  const all = join(d.dir, "talks-all.txt");
  writeFileSync(all, `# every talk\n${[...names].reverse().join("\n")}\n\n`);
  const plain = join(d.dir, "exp-talks-none");
  const listed = join(d.dir, "exp-talks-all");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", plain, ...twoSteps]);
  nast(["train", "-c", "tiny", "-d", d.data, "-o", listed, "--train-talks", all, ...twoSteps]);
  assert.deepEqual(lossByStep(readLog(listed)), lossByStep(readLog(plain)));
  // One talk: its utterances only.
  const one = join(d.dir, "talks-one.txt");
  writeFileSync(one, `${names[0]}\n`);
  const first = join(d.dir, "exp-talks-one");
  nast(["train", "-c", "tiny", "-d", d.data, "-o", first, "--train-talks", one, ...twoSteps]);
  assert.equal(start(first).trainUtterances, talks.filter((t) => t === names[0]).length);
  assert.equal((start(first).trainTalks as { utterances: number }).utterances, talks.filter((t) => t === names[0]).length);
  // Resuming with the list unchanged continues; with another list it is refused, naming the file.
  nast(["train", "--resume", "-d", d.data, "-o", first, ...twoSteps, "--max-steps", "3"]);
  assert.equal(lossByStep(readLog(first)).size, 3);
  writeFileSync(one, `${names[1]}\n`);
  const changed = nast(["train", "--resume", "-d", d.data, "-o", first, ...twoSteps, "--max-steps", "4"], { allowFail: true });
  assert.notEqual(changed.status, 0);
  assert.match(changed.stderr, /talks-one\.txt: the run being resumed trained on a --train-talks list of digest [0-9a-f]{12}\.\.\.: resume with that list as it was/);
  const added = nast(["train", "--resume", "-d", d.data, "-o", plain, ...twoSteps, "--max-steps", "3", "--train-talks", one], { allowFail: true });
  assert.match(added.stderr, /the run being resumed trained on every talk of DATA_DIR\/train/);
  // Bad lists: missing, a talk the data lacks, two ids on a line, nothing listed.
  const refused = (file: string, text: string | null, pattern: RegExp) => {
    if (text !== null) writeFileSync(file, text);
    const r = nast(["train", "-c", "tiny", "-d", d.data, "-o", join(d.dir, "exp-talks-bad"), "--train-talks", file, ...twoSteps], { allowFail: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, pattern);
    assert.ok(!existsSync(join(d.dir, "exp-talks-bad")), "a refused run leaves no experiment directory");
  };
  refused(join(d.dir, "no-such-list.txt"), null, /no-such-list\.txt: no such file \(--train-talks takes a file of talk ids/);
  refused(join(d.dir, "talks-unknown.txt"), `${names[0]}\nted_999\n`, /talks-unknown\.txt: lists talks that DATA_DIR\/train does not have: ted_999; the ids are its talks' names/);
  refused(join(d.dir, "talks-spaces.txt"), `${names[0]}\n${names[0]} ${names[1]}\n`, /talks-spaces\.txt:2: ".*" is not one talk id/);
  refused(join(d.dir, "talks-empty.txt"), "# nothing\n\n", /talks-empty\.txt: lists no talk/);
});

test("a --valid-split that DATA_DIR lacks is refused, naming it and the splits there; a missing default dev is not", () => {
  const args = ["--max-steps", "1", "--valid-every", "1000", "--valid-max", "1", ...COMMON];
  const exp = join(d.dir, "exp-no-split");
  const r = nast(["train", "-c", "tiny", "-d", d.data, "-o", exp, "--valid-split", "dev-real-unseen", ...args], { allowFail: true });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /dev-real-unseen: is not a split of DATA_DIR \(--valid-split\): it has dev, train, tst-COMMON; prepare it/);
  assert.ok(!existsSync(exp), "a refused run leaves no experiment directory");
  // A corpus prepared without dev still trains (unvalidated), as before.
  const noDev = join(d.dir, "data-no-dev");
  cpSync(d.data, noDev, { recursive: true });
  rmSync(join(noDev, "dev"), { recursive: true });
  const plain = join(d.dir, "exp-no-dev");
  nast(["train", "-c", "tiny", "-d", noDev, "-o", plain, ...args]);
  assert.equal(readLog(plain).find((e) => e.event === "start")!.devUtterances, 0);
});
