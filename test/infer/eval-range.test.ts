// `nast eval` with YAML segments that lie outside their talk's audio: one that starts past the end and
// one that ends 2 s past it are failures named by YAML file and line (in report.json, report.md and on
// stderr), scored as empty, with a non-zero exit; one that ends within the tolerance is translated, and
// every other segment gets the hypothesis it gets in a corpus without the bad lines. The YAML starts
// with a comment, so its line numbers are not segment positions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthTalk, tinyModelPackage, SENTENCES_EN, type TinyModel } from "./fixtures.ts";
import { runNast as nast } from "../helpers/cli.ts";

let work = "";
let model: TinyModel;
const EN = [...SENTENCES_EN, "goodbye"];
const ES = ["hola y bienvenidos a esta charla.", "hoy veremos cómo traducen las máquinas.", "hace buen tiempo.", "muchas gracias.", "¡adiós!"];
type Span = { offset: number; duration: number };
let talks: { a: Span[]; b: Span[]; bSeconds: number };

/** A corpus of the two talks with `extra` segments of ted_2 after its own; returns its root. */
function corpus(name: string, extra: Span[]): string {
  const root = join(work, name);
  const dir = join(root, "en-es", "data", "tst-COMMON");
  mkdirSync(join(dir, "txt"), { recursive: true });
  mkdirSync(join(dir, "wav"), { recursive: true });
  for (const w of ["ted_1.wav", "ted_2.wav"]) writeFileSync(join(dir, "wav", w), readFileSync(join(work, "wav", w)));
  const line = (s: Span, spk: string, wav: string) => `- {duration: ${s.duration.toFixed(6)}, offset: ${s.offset.toFixed(6)}, speaker_id: ${spk}, wav: ${wav}}`;
  const yaml = ["# tst-COMMON segments", ...talks.a.map((s) => line(s, "spk.1", "ted_1.wav")), ...[...talks.b, ...extra].map((s) => line(s, "spk.2", "ted_2.wav"))];
  writeFileSync(join(dir, "txt", "tst-COMMON.yaml"), `${yaml.join("\n")}\n`);
  writeFileSync(join(dir, "txt", "tst-COMMON.en"), `${[...EN, ...extra.map((_, i) => `extra ${i}`)].join("\n")}\n`);
  writeFileSync(join(dir, "txt", "tst-COMMON.es"), `${[...ES, ...extra.map((_, i) => `extra ${i}`)].join("\n")}\n`);
  return root;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "nast-eval-range-"));
  model = tinyModelPackage(join(work, "tiny"));
  const a = await synthTalk(join(work, "wav"), EN.slice(0, 3), 0.7, "ted_1.wav");
  const b = await synthTalk(join(work, "wav"), EN.slice(3), 0.7, "ted_2.wav");
  talks = { a: a.spans, b: b.spans, bSeconds: b.duration };
});

after(() => rmSync(work, { recursive: true, force: true }));

const lines = (dir: string, f: string): string[] => readFileSync(join(dir, f), "utf8").split("\n").slice(0, -1);

test("segments past the end of the audio are failures naming the YAML file and line; the others are still scored; exit 1", () => {
  const clean = corpus("clean", []);
  const cleanOut = join(work, "report-clean");
  const ok = nast(["eval", "--mustc", clean, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", cleanOut, "--json", "--threads", "1"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).failures, []);

  const end = talks.bSeconds;
  const bad = corpus("bad", [
    { offset: end + 3, duration: 1 }, // line 7: starts past the end
    { offset: end - 1, duration: 3 }, // line 8: ends 2 s past the end
    { offset: end - 1, duration: 1.05 }, // line 9: ends 0.05 s past the end, within the tolerance
  ]);
  const out = join(work, "report-bad");
  const r = nast(["eval", "--mustc", bad, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", out, "--json", "--threads", "1"]);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const yaml = join(bad, "en-es", "data", "tst-COMMON", "txt", "tst-COMMON.yaml");
  const wav = join(bad, "en-es", "data", "tst-COMMON", "wav", "ted_2.wav");
  assert.deepEqual(
    report.failures.map((f: { talk: string; yaml: string; line: number; segments: number }) => [f.talk, f.yaml, f.line, f.segments]),
    [
      ["ted_2", yaml, 7, 1],
      ["ted_2", yaml, 8, 1],
    ],
  );
  assert.match(report.failures[0].error, new RegExp(`^${esc(yaml)}:7: segment [\\d.]+–[\\d.]+ s starts past the end of ${esc(wav)} \\([\\d.]+ s of audio\\)$`));
  assert.match(report.failures[1].error, new RegExp(`^${esc(yaml)}:8: segment [\\d.]+–[\\d.]+ s ends past the end of ${esc(wav)} \\([\\d.]+ s of audio, 0\\.1 s of slack\\)$`));
  assert.equal(report.translated, 6);
  assert.equal(report.corpus.segments, 8);
  assert.match(r.stderr, new RegExp(`nast eval: ${esc(yaml)}:7: .*starts past the end.*\\(scored as empty\\)`));
  assert.match(r.stderr, new RegExp(`nast eval: ${esc(yaml)}:8: .*ends past the end.*\\(scored as empty\\)`));
  const md = readFileSync(join(out, "report.md"), "utf8");
  assert.match(md, /6 segments translated, 2 not \(2 failures, below\)\./);
  assert.match(md, new RegExp(`## Failures\\n\\n- ${esc(yaml)}:7: .*\\(scored as an empty hypothesis\\)\\n- ${esc(yaml)}:8: `));

  // One hypothesis per YAML segment, in YAML order: the failures are empty, the rest as without them.
  const hyps = lines(out, "hyp.es");
  assert.equal(hyps.length, 8);
  assert.deepEqual(hyps.slice(0, 5), lines(cleanOut, "hyp.es"));
  assert.deepEqual(lines(out, "hyp.en").slice(0, 5), lines(cleanOut, "hyp.en"));
  assert.equal(hyps[5], "");
  assert.equal(hyps[6], "");

  // An automatic segmentation does not translate the YAML segments, but the corpus is still wrong.
  const auto = nast(["eval", "--mustc", bad, "--pair", "en-es", "--split", "tst-COMMON", "-m", model.dir, "-o", join(work, "report-auto"), "--json", "--threads", "1", "--segment", "energy"]);
  assert.equal(auto.code, 1, auto.stderr);
  assert.deepEqual(JSON.parse(auto.stdout).failures.map((f: { line: number }) => f.line), [7, 8]);
  assert.match(auto.stderr, /:7: .*\(its reference is still part of the talk's\)/);
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
