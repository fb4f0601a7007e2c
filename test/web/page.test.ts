// The page of `nast serve` in a real browser (Debian's chromium, headless): example.wav fed through its
// file input, the same talk as Opus, a microphone recording, a file that is not audio, and what the page requests (nothing outside its loopback origin).
// The page's result (its json download) is compared with the CLI's code run on the same kernels
// (onnxruntime-web's wasm, in Node): byte for byte. Against `nast translate` (onnxruntime-node's native
// kernels) the float16 package must give the same translation. The shipped int8 package gives the same
// segments, but a word or two may differ: the int8 model quantizes its activations on the fly
// (DynamicQuantizeLinear: scale and zero point from each tensor's min and max, values rounded to uint8;
// onnx.ai/onnx/operators/onnx__DynamicQuantizeLinear.html), so the last-bit differences between MLAS's
// x86 float kernels and its WebAssembly SIMD128 ones (no fused multiply-add) move values across rounding
// steps, and the target log-probabilities of example.wav move by up to 1.7 (a blank-against-token gap by
// up to 0.59), while the smallest gap whose flip changes the text is 0.065: a frame of each head flips,
// and the page says "que" where `nast translate` says "que que", "A" where it transcribes "And".
// docs/web.md has the numbers and how they were measured.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, test } from "node:test";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import type { Page } from "playwright-core";
import { buildWebPage } from "../../scripts/web-bundle.mjs";
import { loadModelPackage } from "../../src/formats/model-package.ts";
import { OrtBatchRunner } from "../../src/infer/ort-runner.ts";
import { Translator } from "../../src/infer/translator.ts";
import { SILERO_PAGE_FILE, sileroModelPath } from "../../src/infer/vad.ts";
import { SileroSegmenter } from "../../src/infer/segmenters.ts";
import { SileroWindowModel } from "../../src/web/silero-windows.ts";
import { render, type FileResult } from "../../src/infer/result-formats.ts";
import { editCounts, werWords } from "../../eval/metrics/wer.ts";
import { REPO_ROOT, runNast } from "../helpers/cli.ts";
import { loadConfig, withVocabSize } from "../../src/model/config.ts";
import { exportFixture } from "../export/helpers.ts";
import { openPage, startServe, translateOnPage, type OpenPage, type Served } from "../helpers/web-page.ts";

const EXAMPLE = join(REPO_ROOT, "models/default/example.wav");
let served: Served;
let open: OpenPage;
const shots = mkdtempSync(join(tmpdir(), "nast-web-shot-"));

before(async () => {
  await buildWebPage(REPO_ROOT);
  served = await startServe();
  open = await openPage(served.origin);
});

after(async () => {
  await open?.browser.close();
  await served?.stop();
  rmSync(shots, { recursive: true, force: true });
});

/** The text of the page's download in `format` (the same bytes as `nast translate -f FORMAT` writes). */
function download(page: Page, format: string): Promise<string> {
  return page.evaluate(async (f) => (await fetch(document.querySelector<HTMLAnchorElement>(`#downloads a[download$=".${f}"]`)!.href)).text(), format);
}

/** example.wav through the CLI's Translator on onnxruntime-web in Node, with the page's session options. */
async function wasmReference(): Promise<FileResult> {
  ort.env.wasm.numThreads = 1;
  const pkg = loadModelPackage(undefined);
  const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all", executionMode: "sequential", interOpNumThreads: 1 } as const;
  const session = await ort.InferenceSession.create(pkg.onnx, options);
  const vad = await ort.InferenceSession.create(readFileSync(sileroModelPath(SILERO_PAGE_FILE)), { ...options, intraOpNumThreads: 1 });
  const runner = new OrtBatchRunner(ort, session, pkg.cfg.inputDim, pkg.cfg.vocabSize);
  const translator = new Translator(pkg, runner, { segmenter: new SileroSegmenter(new SileroWindowModel(ort, vad, "silero_vad.onnx")), progress: false });
  const result = await translator.translateFile(EXAMPLE, "model");
  await runner.release();
  await vad.release();
  return { ...result, file: "example.wav" };
}

test("example.wav on the page: the CLI's result on the same kernels, byte for byte; nothing fetched from elsewhere", async () => {
  const { page } = open;
  assert.equal(await page.getAttribute("body", "data-state"), "ready", (await page.textContent("#model-status")) ?? "");
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, "the page is cross-origin isolated (threads)");
  assert.match((await page.textContent("#backend")) ?? "", /wasm \(SIMD, \d+ threads?\)/);
  const run = await translateOnPage(page, EXAMPLE);
  assert.equal(run.state, "done", run.error);
  assert.equal(await page.locator("#downloads a").count(), 4, "txt, json, srt and vtt downloads");
  const reference = await wasmReference();
  for (const format of ["json", "srt"] as const) assert.equal(await download(page, format), render(format, reference), format);
  assert.equal(run.translation, reference.translation);
  assert.equal(await page.locator("#segments tbody tr").count(), reference.segments.length);
  // The README's picture is remade on request only (NAST_WEB_SCREENSHOT=docs/web-page.png): a test run
  // leaves the tracked files as they are.
  const shot = process.env.NAST_WEB_SCREENSHOT ?? join(shots, "web-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(readFileSync(shot).subarray(1, 4).toString() === "PNG", "a PNG screenshot");

  // `nast translate` (native kernels): the same segments and transcripts' times.
  const cli = runNast(["translate", "-f", "json", EXAMPLE]);
  assert.equal(cli.code, 0, cli.stderr);
  const native = JSON.parse(cli.stdout) as FileResult;
  assert.deepEqual(
    native.segments.map((s) => [s.start, s.end]),
    reference.segments.map((s) => [s.start, s.end]),
  );
  assert.deepEqual(open.blocked, []);
});

test("example.wav with the shipped int8 package: the page says what `nast translate` says, but for the frames nearest a tie", async () => {
  // Issue 17 asks for the same translation. With float weights that holds (the float16 test below); with the
  // shipped int8 weights it cannot be promised: on the development machine (Xeon, AVX-512 VNNI; docs/web.md)
  // a translation frame's token is 0.068 ahead of the blank natively and 0.164 behind on wasm (the page
  // drops a repeated "que"), a transcript frame's 0.071 ahead and 0.017 behind ("And" becomes "A"). So the
  // segmentation must be the same and each text at most two words away, as measured there: more than that
  // is a fault of the page, not of rounding.
  const run = await translateOnPage(open.page, EXAMPLE);
  assert.equal(run.state, "done", run.error);
  const page = JSON.parse(await download(open.page, "json")) as FileResult;
  const cli = runNast(["translate", "-f", "json", EXAMPLE]);
  assert.equal(cli.code, 0, cli.stderr);
  const native = JSON.parse(cli.stdout) as FileResult;
  assert.equal(page.duration, native.duration);
  const times = (r: FileResult) => r.segments.map((s) => [s.start, s.end]);
  assert.deepEqual(times(page), times(native));
  const apart = (a: string, b: string) => {
    const e = editCounts(werWords(a), werWords(b));
    return e.substitutions + e.deletions + e.insertions;
  };
  const total = (key: "source" | "translation") => page.segments.reduce((n, s, i) => n + apart(native.segments[i]![key], s[key]), 0);
  assert.ok(total("translation") <= 2, `translations ${total("translation")} words apart:\n  page ${page.translation}\n  cli  ${native.translation}`);
  assert.ok(total("source") <= 2, `transcripts ${total("source")} words apart`);
  assert.ok(page.translation.split(" ").length >= 10, "the shipped model says something of the talk");
  assert.deepEqual(open.blocked, []);
});

test("another format (Opus in Ogg) through the browser's decoder and our resampler: translated", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-page-"));
  try {
    const ogg = join(dir, "example.ogg");
    execFileSync("ffmpeg", ["-v", "error", "-i", EXAMPLE, "-ac", "2", "-ar", "48000", "-c:a", "libopus", ogg]);
    const run = await translateOnPage(open.page, ogg);
    assert.equal(run.state, "done", run.error);
    assert.ok(Math.abs(run.duration - 15.6) < 0.1, `duration ${run.duration}`);
    assert.match(run.translation, /problemas/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(open.blocked, []);
});

test("a recording from the microphone (chromium's fake device, a beep): recorded, decoded, no speech found", async () => {
  const { page } = open;
  await page.evaluate(() => (document.body.dataset.state = "ready"));
  await page.click("#record");
  await page.waitForSelector("#record:text('Stop and translate')");
  await page.waitForTimeout(1500);
  await page.click("#record");
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 60_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "done", (await page.textContent("#error")) ?? "");
  assert.match((await page.textContent("#run-status")) ?? "", /recording\.webm: no speech found by the silero segmenter/);
  assert.deepEqual(open.blocked, []);
});

test("a file that is not audio: a clear message on the page", async () => {
  const run = await translateOnPage(open.page, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not audio at all\n") });
  assert.equal(run.state, "error");
  assert.match(run.error, /^notes\.txt: is not an audio or video file this browser can decode/);
  assert.deepEqual(open.blocked, []);
});

test("a float16 package: the page's translation equals `nast translate`'s exactly (the int8 default differs only by its activation rounding)", async () => {
  // A small random-weight model exported with float weights: in float, onnxruntime-web's wasm kernels and
  // onnxruntime-node's native ones agree to the last output token (scripts/wasm-vs-native.ts shows the same
  // for the float16 export of the shipped weights), so here the page must reproduce `nast translate` as is.
  const dir = mkdtempSync(join(tmpdir(), "nast-page-fp16-"));
  let server: Served | undefined;
  let other: OpenPage | undefined;
  try {
    const { spm, ckpt } = exportFixture(dir, withVocabSize(loadConfig("tiny"), 64), 7);
    const pkg = join(dir, "pkg");
    const exported = runNast(["export", ckpt, "-o", pkg, "--fp16", "--spm", spm]);
    assert.equal(exported.code, 0, exported.stderr);
    server = await startServe(["-m", pkg]);
    other = await openPage(server.origin);
    const run = await translateOnPage(other.page, EXAMPLE);
    assert.equal(run.state, "done", run.error);
    const cli = runNast(["translate", "-f", "json", "-m", pkg, EXAMPLE]);
    assert.equal(cli.code, 0, cli.stderr);
    const native = JSON.parse(cli.stdout) as FileResult;
    assert.ok(native.translation.length > 0, "the random model says something");
    assert.equal(run.translation, native.translation);
    assert.deepEqual(other.blocked, []);
  } finally {
    await other?.browser.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
