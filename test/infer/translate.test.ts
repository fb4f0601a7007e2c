// `nast translate` end to end with a tiny exported model (random weights: the text is not a real
// translation, the structure is checked): several audio formats in one call, every output format,
// stdin, beam search, valid subtitles, and bad inputs / bad model packages with clear errors while the
// good inputs in the same call are still translated.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSrt, parseVtt } from "./subtitles.ts";
import { synthTalk, tinyModelPackage, trainSpm, SENTENCES_EN, type TinyModel } from "./fixtures.ts";
import { writeMalformedAudio } from "../fixtures/malformed.ts";
import { runNast as nast } from "../helpers/cli.ts";

let work = "";
let model: TinyModel;
let talk: { path: string; duration: number };
let mp3 = "";

before(async () => {
  work = mkdtempSync(join(tmpdir(), "nast-translate-"));
  model = tinyModelPackage(join(work, "tiny"));
  talk = await synthTalk(join(work, "talk"), SENTENCES_EN, 1.0);
  mp3 = join(work, "talk.mp3");
  execFileSync("ffmpeg", ["-v", "error", "-i", talk.path, "-ac", "2", "-ar", "44100", mp3]);
});

after(() => rmSync(work, { recursive: true, force: true }));

interface JsonResult {
  file: string;
  duration: number;
  model: string;
  translation: string;
  segments: { start: number; end: number; source: string; translation: string; words: { word: string; start: number; end: number }[] }[];
}

function checkJson(r: JsonResult, file: string, duration: number): void {
  assert.equal(r.file, file);
  assert.ok(Math.abs(r.duration - duration) < 0.01, `duration ${r.duration} vs ${duration}`);
  assert.equal(r.model, model.dir);
  assert.ok(r.segments.length >= 2, `the pauses cut the talk into segments (${r.segments.length})`);
  let prev = 0;
  for (const s of r.segments) {
    assert.ok(s.start >= prev && s.end > s.start && s.end <= r.duration + 1e-9, `segment [${s.start}, ${s.end}] in order and inside the audio`);
    assert.ok(s.end - s.start <= 20.5, "segments are at most ~20 s");
    assert.equal(typeof s.source, "string");
    assert.equal(typeof s.translation, "string");
    for (const w of s.words) assert.ok(w.start >= s.start - 1e-9 && w.end <= s.end + 1e-9 && w.start < w.end, `word ${JSON.stringify(w)} inside its segment`);
    prev = s.end;
  }
  assert.equal(r.translation, r.segments.map((s) => s.translation.trim()).filter((t) => t).join(" "));
}

test("WAV and MP3 in one call, -f all -o DIR: txt, json, srt and vtt per input, all valid", () => {
  const out = join(work, "out-all");
  const r = nast(["translate", talk.path, mp3, "-m", model.dir, "-f", "all", "-o", out, "--threads", "1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ["talk-2.json", "talk-2.srt", "talk-2.txt", "talk-2.vtt", "talk.json", "talk.srt", "talk.txt", "talk.vtt"]);
  for (const [stem, file] of [["talk", talk.path], ["talk-2", mp3]] as const) {
    const json = JSON.parse(readFileSync(join(out, `${stem}.json`), "utf8")) as JsonResult;
    checkJson(json, file, talk.duration);
    const nonEmpty = json.segments.filter((s) => s.translation.trim().length > 0);
    const srt = parseSrt(readFileSync(join(out, `${stem}.srt`), "utf8"), json.duration);
    const vtt = parseVtt(readFileSync(join(out, `${stem}.vtt`), "utf8"), json.duration);
    assert.equal(srt.length, nonEmpty.length);
    assert.deepEqual(vtt, srt);
    assert.equal(readFileSync(join(out, `${stem}.txt`), "utf8"), nonEmpty.map((s) => `${s.translation.replace(/\s+/g, " ").trim()}\n`).join(""));
  }
});

test("default output: one line per input on stdout; json on stdout; stdin with '-'", () => {
  const txt = nast(["translate", talk.path, mp3, "-m", model.dir]);
  assert.equal(txt.code, 0, txt.stderr);
  assert.equal(txt.stdout.split("\n").length, 3, "two lines and the final newline");
  const json = nast(["translate", "-", "-m", model.dir, "-f", "json"], readFileSync(talk.path));
  assert.equal(json.code, 0, json.stderr);
  checkJson(JSON.parse(json.stdout) as JsonResult, "-", talk.duration);
  assert.equal(txt.stdout.split("\n")[0], (JSON.parse(json.stdout) as JsonResult).translation, "stdin gives the same translation as the file");
  const srt = nast(["translate", talk.path, "-m", model.dir, "-f", "srt", "--beam", "4", "--batch", "2"]);
  assert.equal(srt.code, 0, srt.stderr);
  parseSrt(srt.stdout, talk.duration);
});

test("bad inputs each give a clear error naming them; the good inputs in the same call are translated; exit 1", async () => {
  const bad = await writeMalformedAudio(join(work, "malformed"));
  const out = join(work, "out-bad");
  const r = nast(["translate", talk.path, ...bad.map((b) => b.path), mp3, "-m", model.dir, "-f", "json", "-o", out]);
  assert.equal(r.code, 1);
  for (const b of bad) assert.match(r.stderr, new RegExp(`${b.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`), `error for ${b.name} names the input`);
  assert.match(r.stderr, new RegExp(`${bad.length} of ${bad.length + 2} inputs failed`));
  assert.deepEqual(readdirSync(out).sort(), ["talk-2.json", "talk.json"]);
  assert.ok(!/at .*\.ts:\d+/.test(r.stderr), "no stack traces");
});

test("a broken model package gives a clear error: missing dir, truncated model.onnx, config or vocabulary that disagree", () => {
  const copy = (name: string): string => {
    const dir = join(work, name);
    cpSync(model.dir, dir, { recursive: true });
    return dir;
  };
  const missing = nast(["translate", talk.path, "-m", join(work, "no-such-model")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-model: no such model directory/);

  const truncated = copy("truncated");
  truncateSync(join(truncated, "model.onnx"), Math.floor(statSync(join(truncated, "model.onnx")).size / 2));
  const t = nast(["translate", talk.path, "-m", truncated]);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /model\.onnx: not a readable ONNX model: .*truncated.*re-export/);

  const mismatched = copy("mismatched");
  const cfg = JSON.parse(readFileSync(join(mismatched, "config.json"), "utf8")) as { dModel: number };
  cfg.dModel = 128;
  writeFileSync(join(mismatched, "config.json"), JSON.stringify(cfg));
  const m = nast(["translate", talk.path, "-m", mismatched]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /config\.json: disagrees with the config the weights in model\.onnx were exported with \(differs in: dModel\)/);

  const vocab = copy("vocab");
  copyFileSync(trainSpm(join(work, "spm80"), 80), join(vocab, "spm.model"));
  const v = nast(["translate", talk.path, "-m", vocab]);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /spm\.model: has 80 pieces but the model has 64 outputs/);

  const nofile = copy("nofile");
  rmSync(join(nofile, "spm.model"));
  const n = nast(["translate", talk.path, "-m", nofile]);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /spm\.model: missing from the model package/);
});

test("usage errors exit 2", () => {
  assert.equal(nast(["translate"]).code, 2);
  assert.equal(nast(["translate", talk.path, "-f", "docx", "-m", model.dir]).code, 2);
  assert.equal(nast(["translate", talk.path, "-f", "all", "-m", model.dir]).code, 2);
  assert.equal(nast(["translate", talk.path, "--beam", "-1", "-m", model.dir]).code, 2);
});
