// `nast eval` on a small corpus in MuST-C layout (two espeak-ng talks): every YAML segment gets a
// hypothesis, the scores are those of the metrics on the written hypotheses, with sacreBLEU signatures;
// a talk whose audio is missing is reported (its segments scored as empty) with a non-zero exit.
// With --segment energy|silero the talks are cut automatically and scored at the talk level, the
// oracle's talk-level scores are in every report, and the automatic cuts are compared with the YAML.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corpusBleu, corpusChrf, corpusTer, wer } from "../../eval/metrics/index.ts";
import { synthTalk, tinyModelPackage, SENTENCES_EN, type TinyModel } from "./fixtures.ts";
import { NAST_COMMAND, runNast as nast } from "../helpers/cli.ts";

const root = new URL("../..", import.meta.url).pathname;
let work = "";
let model: TinyModel;
let corpus = "";
let audioSeconds = 0;
const ES = ["hola y bienvenidos a esta charla.", "hoy veremos cómo traducen las máquinas.", "hace buen tiempo.", "muchas gracias.", "¡adiós!"];
const EN = [...SENTENCES_EN, "goodbye"];

before(async () => {
  work = mkdtempSync(join(tmpdir(), "nast-eval-"));
  model = tinyModelPackage(join(work, "tiny"));
  corpus = join(work, "mustc");
  const dir = join(corpus, "en-es", "data", "tst-COMMON");
  mkdirSync(join(dir, "txt"), { recursive: true });
  const a = await synthTalk(join(dir, "wav"), EN.slice(0, 3), 0.7, "ted_1.wav");
  const b = await synthTalk(join(dir, "wav"), EN.slice(3), 0.7, "ted_2.wav");
  audioSeconds = [...a.spans, ...b.spans].reduce((acc, s) => acc + Number(s.duration.toFixed(6)), 0);
  const yaml = [
    ...a.spans.map((s) => `- {duration: ${s.duration.toFixed(6)}, offset: ${s.offset.toFixed(6)}, speaker_id: spk.1, wav: ted_1.wav}`),
    ...b.spans.map((s) => `- {duration: ${s.duration.toFixed(6)}, offset: ${s.offset.toFixed(6)}, speaker_id: spk.2, wav: ted_2.wav}`),
  ];
  writeFileSync(join(dir, "txt", "tst-COMMON.yaml"), `${yaml.join("\n")}\n`);
  writeFileSync(join(dir, "txt", "tst-COMMON.en"), `${EN.join("\n")}\n`);
  writeFileSync(join(dir, "txt", "tst-COMMON.es"), `${ES.join("\n")}\n`);
});

after(() => rmSync(work, { recursive: true, force: true }));

test("every segment translated; BLEU/chrF/TER/WER recomputed from the written hypotheses agree", () => {
  const out = join(work, "report");
  const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json", "--threads", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "report.json"), "utf8")), report);
  assert.equal(report.corpus.segments, 5);
  assert.equal(report.corpus.talks, 2);
  assert.equal(report.translated, 5);
  const hyps = readFileSync(join(out, "hyp.es"), "utf8").split("\n").slice(0, -1);
  const srcHyps = readFileSync(join(out, "hyp.en"), "utf8").split("\n").slice(0, -1);
  assert.equal(hyps.length, 5);
  assert.equal(srcHyps.length, 5);
  assert.equal(report.metrics.bleu.signature, corpusBleu(hyps, [ES]).signature);
  assert.match(report.metrics.bleu.signature, /^nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.\d+\.\d+$/);
  assert.equal(report.metrics.bleu.score, Number(corpusBleu(hyps, [ES]).score.toFixed(4)));
  assert.equal(report.metrics.chrf.score, Number(corpusChrf(hyps, [ES]).score.toFixed(4)));
  assert.equal(report.metrics.ter.score, Number(corpusTer(hyps, [ES]).score.toFixed(4)));
  const w = wer(srcHyps, EN);
  assert.equal(report.sourceWer.refWords, w.refWords);
  assert.equal(report.sourceWer.wer, Number(w.wer.toFixed(4)));
  assert.ok(report.speed.realTimeFactor > 0 && report.speed.segmentsPerSecond > 0);
  assert.ok(Math.abs(report.corpus.audioSeconds - audioSeconds) < 1e-3, `${report.corpus.audioSeconds} s of audio`);
  const md = readFileSync(join(out, "report.md"), "utf8");
  assert.ok(md.includes(report.metrics.bleu.text), "report.md quotes the sacreBLEU line");
});

test("oracle: talk-level scores of the joined YAML hypotheses, and the talk files", () => {
  const out = join(work, "report-talks");
  const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json", "--threads", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.scoring, "segment");
  assert.deepEqual(report.segmentation, { method: "oracle", segments: 5, boundaries: null });
  const lines = (f: string) => readFileSync(join(out, f), "utf8").split("\n").slice(0, -1);
  const hyps = lines("hyp.es");
  // Talk ted_1 holds segments 1-3, ted_2 segments 4-5 (their YAML order is their time order).
  assert.deepEqual(lines("talks.ref.es"), [ES.slice(0, 3).join(" "), ES.slice(3).join(" ")]);
  assert.deepEqual(lines("talks.ref.en"), [EN.slice(0, 3).join(" "), EN.slice(3).join(" ")]);
  const join2 = (xs: string[]) => xs.map((x) => x.trim()).filter((x) => x).join(" ");
  const talkHyps = [join2(hyps.slice(0, 3)), join2(hyps.slice(3))];
  assert.deepEqual(lines("talks.hyp.es"), talkHyps);
  assert.equal(report.talkLevel.bleu.score, Number(corpusBleu(talkHyps, [lines("talks.ref.es")]).score.toFixed(4)));
  assert.equal(report.talkLevel.chrf.score, Number(corpusChrf(talkHyps, [lines("talks.ref.es")]).score.toFixed(4)));
  assert.equal(report.talkLevel.sourceWer.wer, Number(wer(lines("talks.hyp.en"), lines("talks.ref.en")).wer.toFixed(4)));
  assert.ok(!existsSync(join(out, "segments.json")));
});

for (const method of ["energy", "silero"]) {
  test(`--segment ${method}: each talk cut automatically, scored per talk, its cuts compared with the YAML`, () => {
    const out = join(work, `report-${method}`);
    const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json", "--threads", "1", "--segment", method]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const report = JSON.parse(r.stdout);
    assert.equal(report.scoring, "talk");
    assert.equal(report.segmentation.method, method);
    const lines = (f: string) => readFileSync(join(out, f), "utf8").split("\n").slice(0, -1);
    const hyps = lines("hyp.es");
    assert.equal(hyps.length, 2, "one line per talk");
    assert.deepEqual(lines("talks.hyp.es"), hyps);
    const refs = lines("talks.ref.es");
    assert.deepEqual(refs, [ES.slice(0, 3).join(" "), ES.slice(3).join(" ")]);
    assert.equal(report.metrics.bleu.score, Number(corpusBleu(hyps, [refs]).score.toFixed(4)));
    assert.equal(report.metrics.chrf.score, Number(corpusChrf(hyps, [refs]).score.toFixed(4)));
    assert.equal(report.metrics.ter.score, Number(corpusTer(hyps, [refs]).score.toFixed(4)));
    assert.equal(report.metrics.bleu.score, report.talkLevel.bleu.score);
    assert.equal(report.sourceWer.wer, Number(wer(lines("hyp.en"), lines("talks.ref.en")).wer.toFixed(4)));
    // espeak-ng sentences 0.7 s apart: one automatic segment per YAML segment, boundaries close.
    const segments = JSON.parse(readFileSync(join(out, "segments.json"), "utf8")) as { talk: string; segments: { start: number; end: number; translation: string }[] }[];
    assert.deepEqual(segments.map((t) => [t.talk, t.segments.length]), [
      ["ted_1", 3],
      ["ted_2", 2],
    ]);
    assert.equal(report.segmentation.segments, 5);
    const b = report.segmentation.boundaries;
    assert.equal(b.covered, 5);
    assert.equal(b.matched, 5);
    assert.ok(b.startError.mean < 0.3 && b.endError.mean < 0.3, JSON.stringify(b));
    assert.ok(b.speechRecall > 0.9 && b.speechPrecision > 0.9, JSON.stringify(b));
    assert.match(readFileSync(join(out, "report.md"), "utf8"), new RegExp(`Segmentation: ${method}, 5 segments .* scores per talk`));
  });
}

test("--blank-penalty: 0 decodes as without it, a large one gives the blank up (longer hypotheses); a package default in config.json, which the flag overrides", () => {
  const run = (extra: string[], name: string) => {
    const out = join(work, name);
    const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json", "--threads", "1", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return { report: JSON.parse(r.stdout), hyps: readFileSync(join(out, "hyp.es"), "utf8"), md: readFileSync(join(out, "report.md"), "utf8") };
  };
  const plain = run([], "bp-none");
  const zero = run(["--blank-penalty", "0"], "bp-0");
  const big = run(["--blank-penalty", "30"], "bp-30");
  assert.equal(zero.hyps, plain.hyps);
  assert.equal(plain.report.decoding.blankPenalty, 0);
  assert.equal(big.report.decoding.blankPenalty, 30);
  assert.match(big.md, /decoding: greedy, blank penalty 30;/);
  assert.ok(big.hyps.length > plain.hyps.length, `${big.hyps.length} vs ${plain.hyps.length} characters`);
  // A package's config.json may carry its own default ("decoding"), which the flag overrides; model.onnx's
  // embedded config need not say it.
  const tuned = join(work, "tiny-tuned");
  cpSync(model.dir, tuned, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(tuned, "config.json"), "utf8"));
  writeFileSync(join(tuned, "config.json"), JSON.stringify({ ...cfg, decoding: { blankPenalty: 30 } }, null, 2));
  const runWith = (dir: string, extra: string[], name: string) => {
    const out = join(work, name);
    const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", dir, "-o", out, "--json", "--threads", "1", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return { report: JSON.parse(r.stdout), hyps: readFileSync(join(out, "hyp.es"), "utf8") };
  };
  const byPackage = runWith(tuned, [], "bp-package");
  assert.equal(byPackage.report.decoding.blankPenalty, 30);
  assert.equal(byPackage.hyps, big.hyps);
  assert.equal(runWith(tuned, ["--blank-penalty", "0"], "bp-package-0").hyps, plain.hyps);
  writeFileSync(join(tuned, "config.json"), JSON.stringify({ ...cfg, decoding: { blankPenalty: "high" } }, null, 2));
  const refused = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", tuned]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /decoding\.blankPenalty.*expected a number, got "high"/);
  const bad = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "--blank-penalty", "lots"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--blank-penalty must be a number, got "lots"/);
});

test("--segment with an unknown method is a usage error", () => {
  const r = nast(["eval", "--mustc", corpus, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "--segment", "vad"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--segment: unknown segmentation 'vad' \(use oracle, silero, energy\)/);
});

test("a missing talk is reported, its segments scored as empty, the others translated; exit 1", () => {
  const copy = join(work, "mustc-missing");
  cpSync(corpus, copy, { recursive: true });
  rmSync(join(copy, "en-es", "data", "tst-COMMON", "wav", "ted_2.wav"));
  const out = join(work, "report-missing");
  const r = nast(["eval", "--mustc", copy, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json"]);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout);
  assert.equal(report.translated, 3);
  assert.equal(report.failures.length, 1);
  assert.equal(report.failures[0].talk, "ted_2");
  assert.match(r.stderr, /ted_2\.wav: no such file/);
  assert.equal(readFileSync(join(out, "hyp.es"), "utf8").split("\n").length, 6);
});

test("a YAML whose segment count disagrees with the text files is refused with a clear error", () => {
  const copy = join(work, "mustc-short");
  cpSync(corpus, copy, { recursive: true });
  writeFileSync(join(copy, "en-es", "data", "tst-COMMON", "txt", "tst-COMMON.es"), `${ES.slice(0, 4).join("\n")}\n`);
  const r = nast(["eval", "--mustc", copy, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", join(work, "r3")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tst-COMMON\.yaml: has 5 segments but .*tst-COMMON\.en has 5 lines and .*tst-COMMON\.es has 4 lines/);
});

test("recipes/mustc/eval.sh runs nast eval per set, prints a summary table, and skips sets that are up to date", () => {
  const out = join(work, "recipe-eval");
  const env = { ...process.env, NAST: NAST_COMMAND };
  const args = [join(root, "recipes/mustc/eval.sh"), "--corpus-root", corpus, "--model", model.dir, "--out-dir", out, "--eval-args", "--threads 1"];
  const first = spawnSync("bash", args, { cwd: root, encoding: "utf8", env });
  assert.equal(first.status, 0, first.stderr + first.stdout);
  const report = JSON.parse(readFileSync(join(out, "tst-COMMON", "report.json"), "utf8"));
  assert.ok(first.stdout.includes(`| tst-COMMON | ${report.metrics.bleu.score.toFixed(2)} | ${report.metrics.chrf.score.toFixed(2)} |`), first.stdout);
  assert.ok(first.stdout.includes(`BLEU signature: ${report.metrics.bleu.signature}`));
  const second = spawnSync("bash", args, { cwd: root, encoding: "utf8", env });
  assert.equal(second.status, 0);
  assert.match(second.stdout, /tst-COMMON: up to date/);
  const noCorpus = spawnSync("bash", [join(root, "recipes/mustc/eval.sh"), "--model", model.dir], { cwd: root, encoding: "utf8", env });
  assert.equal(noCorpus.status, 2);
  assert.match(noCorpus.stderr, /--corpus-root DIR is required/);
});
