// `nast train -c ar-tiny` (the autoregressive counterpart, docs/model.md §10) through the same trainer as CTC-NAST
// on real (espeak-ng) data on the CPU: the loss falls, validation decodes greedily with the key/value cache and logs
// dev BLEU, a run stopped at a checkpoint and resumed replays the uninterrupted run bit for bit, `nast average`
// averages its checkpoints, the average exports and runs in `nast translate` (greedy and beam, every format, word
// times from the source CTC) and `nast eval`, and the curriculum (CTC-NAST's) is refused by name.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, toFloat64 } from "../../src/formats/safetensors.ts";
import { listCheckpoints } from "../../src/train/checkpoint.ts";
import { loadModel } from "../../src/eager/load.ts";
import { isArConfig } from "../../src/model/config.ts";
import { paramSpecs } from "../../src/model/params.ts";
import { lossByStep, nast, readLog, shortCorpus, type Data } from "./fixture.ts";

let d: Data;
const COMMON = ["-c", "ar-tiny", "--threads", "1", "--no-progress", "--max-frames", "1200", "--warmup", "20", "--lr", "5e-3", "--max-epochs", "1000"];

before(() => {
  d = shortCorpus();
});
after(() => rmSync(d.dir, { recursive: true, force: true }));

test("ar-tiny: the loss falls, validation logs dev BLEU, checkpoints average; the average exports, translates and evaluates", () => {
  const exp = join(d.dir, "exp-ar");
  nast(["train", ...COMMON, "-d", d.data, "-o", exp, "--max-steps", "100", "--valid-every", "50"]);
  const log = readLog(exp);
  const train = log.filter((r) => r.event === "train");
  assert.equal(train.length, 100);
  const mean = (rs: typeof train) => rs.reduce((a, r) => a + (r.loss as number), 0) / rs.length;
  const first = mean(train.slice(0, 10));
  const last = mean(train.slice(-10));
  assert.ok(last < 0.4 * first, `loss ${first.toFixed(2)} -> ${last.toFixed(2)}`);
  // loss = CE_ε + 0.3·(C_src + C_src^inter), per target token.
  const r = train.at(-1)!;
  assert.ok(Math.abs((r.loss as number) - ((r.loss_tgt as number) + 0.3 * ((r.loss_src as number) + (r.loss_src_inter as number)))) < 1e-9);
  assert.equal(r.loss_tgt_inter, 0);
  assert.equal(r.replaced, 0, "no curriculum");
  const valid = log.filter((x) => x.event === "valid");
  assert.deepEqual(valid.map((x) => x.step), [50, 100]);
  assert.ok((valid.at(-1)!.bleu as number) > 0, `dev BLEU ${valid.at(-1)!.bleu}`);
  assert.equal(typeof valid.at(-1)!.srcWer, "number");
  assert.ok((valid.at(-1)!.example as string).length > 0, "greedy decoding produced a translation");

  const avg = join(d.dir, "avg.safetensors");
  nast(["average", exp, "--best", "2", "-o", avg]);
  const [a, b] = listCheckpoints(exp).map((c) => readSafetensors(c.path).tensors.get("decoder.embed.weight")!);
  const m = readSafetensors(avg).tensors.get("decoder.embed.weight")!;
  const [x, y, z] = [toFloat64(a!), toFloat64(b!), toFloat64(m)];
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(z[i]! - (x[i]! + y[i]!) / 2) < 1e-6);
  const model = loadModel(avg);
  assert.ok(isArConfig(model.cfg));
  for (const t of model.params.values()) t.dispose();

  const pkg = join(d.dir, "pkg-ar");
  nast(["export", avg, "-o", pkg, "--spm", join(d.data, "spm.model")]);
  const wavDir = join(d.corpus, "en-es", "data", "tst-COMMON", "wav");
  const wav = join(wavDir, readdirSync(wavDir)[0]!);
  for (const beam of ["1", "3"]) {
    const out = nast(["translate", wav, "-m", pkg, "-f", "json", "--beam", beam, "--threads", "1"]);
    const result = JSON.parse(out.stdout) as { segments: { start: number; end: number; source: string; translation: string; words: { start: number; end: number }[] }[]; translation: string };
    assert.ok(result.segments.length > 0);
    assert.ok(result.translation.length > 0, `beam ${beam}: an empty translation`);
    for (const s of result.segments) for (const w of s.words) assert.ok(s.start <= w.start && w.start <= w.end && w.end <= s.end, `word times ${JSON.stringify(w)} in ${s.start}-${s.end}`);
  }
  assert.match(nast(["translate", wav, "-m", pkg, "-f", "srt"]).stdout, /^1\n\d\d:\d\d:\d\d,\d{3} --> /);
  const penalized = nast(["translate", wav, "-m", pkg, "--blank-penalty", "1"], { allowFail: true });
  assert.equal(penalized.status, 2);
  assert.match(penalized.stderr, /--blank-penalty: .* is an autoregressive model, which has no target CTC to penalize/);
  const report = JSON.parse(nast(["eval", "--mustc", d.corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", pkg, "-o", join(d.dir, "eval-ar"), "--json", "--threads", "1", "--beam", "3"]).stdout);
  assert.equal(report.corpus.segments, 3);
  assert.equal(report.translated, 3);
  assert.equal(typeof report.metrics.bleu.score, "number");
  assert.equal(report.decoding.beam, 3);
});

test("ar-tiny: a run resumed from its checkpoint replays the uninterrupted run exactly", () => {
  const straight = join(d.dir, "exp-straight");
  const resumed = join(d.dir, "exp-resumed");
  nast(["train", ...COMMON, "-d", d.data, "-o", straight, "--max-steps", "30", "--valid-every", "15"]);
  nast(["train", ...COMMON, "-d", d.data, "-o", resumed, "--max-steps", "15", "--valid-every", "15"]);
  nast(["train", ...COMMON, "-d", d.data, "-o", resumed, "--max-steps", "30", "--valid-every", "15", "--resume"]);
  assert.deepEqual([...lossByStep(readLog(resumed))], [...lossByStep(readLog(straight))]);
  const final = (exp: string) => readSafetensors(listCheckpoints(exp).at(-1)!.path).tensors;
  const s = final(straight);
  const r = final(resumed);
  for (const name of ["decoder.layers.1.cross.q.weight", "acoustic.layers.0.conv.bn.running_var", "ctc.weight"]) {
    assert.deepEqual(toFloat64(r.get(name)!), toFloat64(s.get(name)!), name);
  }
});

test("ar-tiny: --curriculum (CTC-NAST's target-PAE mixing) is refused by name", () => {
  const out = nast(["train", ...COMMON, "-d", d.data, "-o", join(d.dir, "exp-cur"), "--max-steps", "1", "--curriculum"], { allowFail: true });
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /--curriculum: the curriculum mixes into the target PAE of CTC-NAST: an autoregressive model \("arch": "ar"\) has none/);
});

test("--init-encoder: ar-tiny's encoder and source CTC from a trained CTC-NAST tiny, its decoder fresh; refused where it cannot apply", () => {
  const src = join(d.dir, "exp-nast-source");
  // Another seed than the AR runs': with the same one, the shared weights would start out equal anyway.
  nast(["train", "-c", "tiny", "--seed", "7", "--threads", "1", "--no-progress", "--max-frames", "1200", "--max-steps", "3", "--valid-every", "1000", "--valid-max", "1", "-d", d.data, "-o", src]);
  const source = readSafetensors(listCheckpoints(src).at(-1)!.path).tensors;
  // lr 1e-12: the one update leaves every weight where it started, so the checkpoint shows the start.
  const oneStep = [...COMMON, "--max-steps", "1", "--lr", "1e-12", "--warmup", "1", "--valid-every", "1000", "--valid-max", "1"];
  const exp = join(d.dir, "exp-ar-from-nast");
  nast(["train", ...oneStep, "--init-encoder", src, "-d", d.data, "-o", exp]);
  const scratch = join(d.dir, "exp-ar-scratch");
  nast(["train", ...oneStep, "-d", d.data, "-o", scratch]);
  const started = readSafetensors(listCheckpoints(exp).at(-1)!.path).tensors;
  const fresh = readSafetensors(listCheckpoints(scratch).at(-1)!.path).tensors;
  const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
  const cfg = loadModel(listCheckpoints(exp).at(-1)!.path);
  const names = paramSpecs(cfg.cfg).filter((s) => !s.buffer).map((s) => s.name);
  for (const t of cfg.params.values()) t.dispose();
  const encoder = names.filter((n) => !n.startsWith("decoder."));
  assert.ok(encoder.length > 20 && encoder.some((n) => n.startsWith("acoustic.")) && encoder.includes("ctc.weight"), `${encoder.length} encoder weights`);
  for (const name of encoder) {
    assert.ok(source.has(name), `the CTC-NAST model has ${name}`);
    assert.ok(maxDiff(toFloat64(started.get(name)!), toFloat64(source.get(name)!)) < 1e-6, `${name} comes from the CTC-NAST model`);
  }
  assert.ok(encoder.some((n) => maxDiff(toFloat64(fresh.get(n)!), toFloat64(source.get(n)!)) > 1e-2), "a run from scratch starts elsewhere");
  const decoder = names.filter((n) => n.startsWith("decoder."));
  assert.ok(decoder.length > 10 && decoder.every((n) => !source.has(n) && started.has(n)), "the decoder is new");
  assert.ok(readLog(exp).some((r) => r.event === "start" && typeof r.init === "string" && r.initPart === "encoder"), "the start record says where the encoder came from");

  const refused = (args: string[], pattern: RegExp, status?: number) => {
    const out = nast(["train", ...args, "-d", d.data, "-o", join(d.dir, "exp-refused")], { allowFail: true });
    if (status !== undefined) assert.equal(out.status, status, out.stderr);
    else assert.notEqual(out.status, 0);
    assert.match(out.stderr, pattern);
    assert.equal(listCheckpoints(join(d.dir, "exp-refused")).length, 0);
  };
  refused(["-c", "tiny", "--max-steps", "1", "--init-encoder", src], /--init-encoder: -c tiny is not an autoregressive model/, 2);
  refused([...oneStep, "--init-encoder", src, "--init", src], /--init and --init-encoder: each names the starting weights; give one/, 2);
  const moments = listCheckpoints(src).at(-1)!.path.replace(/\.safetensors$/, ".train.safetensors");
  refused([...oneStep, "--init-encoder", moments], /lacks \d+ weights of the model/);
});
