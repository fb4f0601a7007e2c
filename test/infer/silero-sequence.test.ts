// Silero VAD's sequence graph (src/infer/silero-sequence.ts), which `nast translate` and `nast eval` run (a run of
// windows per onnxruntime call), against the shipped silero_vad.onnx run window by window: by a plain loop here,
// framed as Silero's OnnxWrapper frames it (github.com/snakers4/silero-vad, src/silero_vad/utils_vad.py), and
// by the page's SileroWindowModel (src/web/silero-windows.ts). The probabilities agree within SEQUENCE_TOLERANCE
// (the page's path within 1e-5) on the shipped example and on a generated recording longer than one run
// (SILERO_RUN windows) whose length is not a multiple of 512, also when it streams by in uneven pieces and is
// amplified; the segments are the same; the windows really go in runs; and files that are not the 16 kHz Silero model are refused, naming the file.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { decodeAudio } from "../../src/audio/decode.ts";
import { AudioMeter, type SpeechSegment } from "../../src/audio/segment.ts";
import { SILERO_ROW, SILERO_RUN, SILERO_WINDOW, SileroSegmenter, energySegmenter, vadGain, type SileroNetwork } from "../../src/infer/segmenters.ts";
import { SileroSequence, sileroSequenceModel } from "../../src/infer/silero-sequence.ts";
import { SILERO_PAGE_FILE, SileroVad, loadSegmenter, sileroModelPath } from "../../src/infer/vad.ts";
import { SileroWindowModel } from "../../src/web/silero-windows.ts";
import { Rng } from "../../src/util/rng.ts";
import { randomBlocks } from "../helpers/blocks.ts";

const RATE = 16000;
const EXAMPLE = new URL("../../models/default/example.wav", import.meta.url).pathname;
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3 } as const;
const CONTEXT = SILERO_ROW - SILERO_WINDOW;

let perWindow: ort.InferenceSession;
let vad: SileroVad;
let page: SileroSegmenter;
let example: Float32Array = new Float32Array(0);
/** 71 s (more than SILERO_RUN windows) of the example three times over, noise, a tone and silence; 333 samples past a window. */
let generated: Float32Array = new Float32Array(0);
let work = "";

before(async () => {
  perWindow = await ort.InferenceSession.create(readFileSync(sileroModelPath(SILERO_PAGE_FILE)), OPTIONS);
  vad = await SileroVad.load();
  const pageSession = await ort.InferenceSession.create(readFileSync(sileroModelPath(SILERO_PAGE_FILE)), OPTIONS);
  page = new SileroSegmenter(new SileroWindowModel(ort, pageSession, "silero_vad.onnx"));
  example = (await decodeAudio(EXAMPLE)).samples;
  const rng = new Rng(14);
  generated = new Float32Array(Math.floor((71 * RATE) / SILERO_WINDOW) * SILERO_WINDOW + 333);
  for (let i = 0; i < generated.length; i++) generated[i] = 0.002 * rng.normal();
  for (const [at, gain] of [[1, 1], [23, 0.3], [47, 1.5]] as const) {
    example.forEach((v, k) => (generated[at * RATE + k] = Math.max(-1, Math.min(1, generated[at * RATE + k]! + gain * v))));
  }
  for (let i = 40 * RATE; i < 43 * RATE; i++) generated[i] = 0.2 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  generated.fill(0, 64 * RATE, 66 * RATE);
  work = mkdtempSync(join(tmpdir(), "nast-silero-seq-"));
});
after(async () => {
  await perWindow.release();
  await vad.release();
  await page.release();
  rmSync(work, { recursive: true, force: true });
});

/**
 * The shipped model, one call per window, as Silero's OnnxWrapper runs it: the samples scaled by `gain` and
 * clipped, each window after the last 64 (scaled) samples of the one before (zeros first), the last one
 * zero-padded, the state carried. `context: false` leaves the context out (a framing error, to show the
 * comparisons can tell).
 */
async function reference(samples: Float32Array, gain = 1, context = true): Promise<Float32Array> {
  const scaled = gain === 1 ? samples : Float32Array.from(samples, (v) => Math.max(-1, Math.min(1, v * gain)));
  const n = Math.ceil(scaled.length / SILERO_WINDOW);
  const probs = new Float32Array(n);
  const sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
  let state: ort.Tensor = new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]);
  for (let k = 0; k < n; k++) {
    const row = new Float32Array(SILERO_ROW);
    if (k > 0 && context) row.set(scaled.subarray(k * SILERO_WINDOW - CONTEXT, k * SILERO_WINDOW), 0);
    row.set(scaled.subarray(k * SILERO_WINDOW, (k + 1) * SILERO_WINDOW), CONTEXT);
    const out = await perWindow.run({ input: new ort.Tensor("float32", row, [1, SILERO_ROW]), state, sr });
    probs[k] = (out.output!.data as Float32Array)[0]!;
    state = out.stateN!;
  }
  return probs;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** The probabilities must say something: speech and non-speech both present. */
function assertInformative(p: Float32Array): void {
  assert.ok(p.some((x) => x > 0.9) && p.some((x) => x < 0.1), `probabilities from ${Math.min(...p)} to ${Math.max(...p)}`);
}

/** The sequence network on its own session, recording the size of every run and the probabilities it gives. */
async function recordedSequence(): Promise<{ segmenter: SileroSegmenter; runs: number[]; probs: number[] }> {
  const session = await ort.InferenceSession.create(sileroSequenceModel(readFileSync(sileroModelPath())), OPTIONS);
  const inner = new SileroSequence(ort, session, sileroModelPath());
  const runs: number[] = [];
  const probs: number[] = [];
  const network: SileroNetwork = {
    path: inner.path,
    start: () => {
      const run = inner.start();
      return async (rows, count) => {
        assert.equal(rows.length, count * SILERO_ROW);
        const p = await run(rows, count);
        runs.push(count);
        probs.push(...p);
        return p;
      };
    },
    release: () => inner.release(),
  };
  return { segmenter: new SileroSegmenter(network), runs, probs };
}

/**
 * How far the sequence graph's probabilities may be from the per-window model's. Its convolutions are banded
 * products, whose sums go in another order than onnxruntime's Conv, and the LSTM carries that float32 rounding
 * from window to window: 1.7e-5 at most on example.wav (1.2e-7 when the graph kept Silero's Conv nodes). A
 * framing error moves them by more than 1e-3 (asserted below).
 */
const SEQUENCE_TOLERANCE = 1e-4;

describe("Silero VAD as one sequence", () => {
  test("example.wav: the probabilities of the per-window model, within SEQUENCE_TOLERANCE (the page's within 1e-5)", async () => {
    const want = await reference(example);
    assertInformative(want);
    const seq = await vad.probabilities(example);
    const d = maxDiff(seq, want);
    assert.ok(d < SEQUENCE_TOLERANCE, `sequence graph: max |diff| ${d}`);
    assert.ok(maxDiff(await page.probabilities(example), want) < 1e-5, "the page's window-by-window path");
    // A framing error (no context) moves the probabilities by far more than the tolerance.
    assert.ok(maxDiff(await reference(example, 1, false), want) > 1e-3, "the comparison tells a framing error");
  });

  test("a generated recording, not a multiple of 512 samples: within SEQUENCE_TOLERANCE, in runs of at most SILERO_RUN windows", async () => {
    const gain = vadGain(generated, RATE);
    const want = await reference(generated, gain);
    assertInformative(want);
    assert.equal(want.length, Math.ceil(generated.length / SILERO_WINDOW));
    assert.ok(want.length > SILERO_RUN);
    const { segmenter, runs } = await recordedSequence();
    try {
      const d = maxDiff(await segmenter.probabilities(generated, gain), want);
      assert.ok(d < SEQUENCE_TOLERANCE, `max |diff| ${d}`);
      // The complete windows in runs of at most SILERO_RUN, then the zero-padded last one (finish).
      assert.deepEqual(runs, [SILERO_RUN, want.length - SILERO_RUN - 1, 1]);
    } finally {
      await segmenter.release();
    }
  });

  test("the same recording, 40 dB down, streaming by in uneven pieces: the same probabilities (amplified), and the segments of both paths", async () => {
    const samples = Float32Array.from(generated, (v) => v * 10 ** (-40 / 20));
    const gain = vadGain(samples, RATE);
    assert.ok(gain > 10, `gain ${gain}`);
    const meter = new AudioMeter(RATE);
    meter.push(samples);
    const stats = meter.finish();
    const want = await reference(samples, gain);
    // Pieces of 1 to 40,000 samples, and one of more than SILERO_RUN windows that starts and ends inside a window.
    const rng = new Rng(5);
    const cut = [2 * RATE + 123, 2 * RATE + 123 + SILERO_RUN * SILERO_WINDOW + 4321];
    assert.ok(cut[1]! < samples.length);
    const pieces = (): Float32Array[] => [...randomBlocks(rng, samples.subarray(0, cut[0]), 300, 40000), samples.subarray(cut[0], cut[1]), ...randomBlocks(rng, samples.subarray(cut[1]), 300, 40000)];
    const { segmenter, runs, probs } = await recordedSequence();
    try {
      for (const opts of [{}, { maxSeconds: 4 }]) {
        runs.length = 0;
        probs.length = 0;
        const stream = segmenter.open(stats, opts);
        const got: SpeechSegment[] = [];
        const blocks = pieces();
        for (const b of blocks) got.push(...(await stream.push(b)));
        got.push(...(await stream.finish()));
        const d = maxDiff(Float32Array.from(probs), want);
        assert.ok(d < SEQUENCE_TOLERANCE, `max |diff| ${d}`);
        // The windows a piece completes go together (in runs of at most SILERO_RUN), never one call per window.
        assert.ok(runs.length <= blocks.length + 2 && runs.includes(SILERO_RUN) && Math.max(...runs) <= SILERO_RUN, `runs ${runs.join(" ")}`);
        const whole = await page.segment(samples, RATE, opts);
        assert.ok(whole.length >= 6, `${whole.length} segments`);
        assert.deepEqual(got, whole);
        assert.deepEqual(await vad.segment(samples, RATE, opts), whole);
      }
    } finally {
      await segmenter.release();
    }
  });

  test("example.wav: the same segments on both paths", async () => {
    const seq = await vad.segment(example, RATE);
    assert.equal(seq.length, 5);
    assert.deepEqual(seq, await page.segment(example, RATE));
    assert.deepEqual(await vad.segment(example, RATE, { maxSeconds: 2 }), await page.segment(example, RATE, { maxSeconds: 2 }));
  });

  test("the graph is built the same every time (so the optimized graph's cache entry is found again)", () => {
    const bytes = readFileSync(sileroModelPath());
    assert.deepEqual(sileroSequenceModel(bytes), sileroSequenceModel(bytes));
  });

  test("a file that is not the 16 kHz Silero model: refused with an error naming it; translate falls back to energy", async () => {
    const random = join(work, "random.onnx");
    const rng = new Rng(7);
    writeFileSync(random, Uint8Array.from({ length: 4096 }, () => Math.floor(rng.uniform() * 256)));
    const truncated = join(work, "truncated.onnx");
    const model = readFileSync(sileroModelPath());
    writeFileSync(truncated, model.subarray(0, model.length >> 1));
    const nast = new URL("../../models/default/model.onnx", import.meta.url).pathname;
    const cases: [string, RegExp][] = [
      [random, /not an ONNX file: /],
      [truncated, /not an ONNX file: /],
      [nast, /it has no node that makes \/model\/encoder\/3\/activation\/Relu_output_0/],
      // The page's file: the same network behind its sample-rate switch (an If), which this layout does not take.
      [sileroModelPath(SILERO_PAGE_FILE), /it has no node that makes/],
    ];
    for (const [path, reason] of cases) {
      const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      await assert.rejects(SileroVad.load(path), (err: Error) => {
        assert.match(err.message, new RegExp(`^${escaped}: not a 16 kHz Silero VAD model of the layout nast batches \\(`));
        assert.match(err.message, reason);
        assert.match(err.message, /use @jjhbw\/silero-vad's weights\/silero_vad_16k_op15\.onnx \(npm ci installs it\)$/);
        return true;
      });
      const warnings: string[] = [];
      assert.equal(await loadSegmenter("silero", (m) => warnings.push(m), path), energySegmenter);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]!.includes(path), warnings[0]);
    }
    await assert.rejects(SileroVad.load(work), (err: Error) => err.message.startsWith(`${work}: cannot read the Silero VAD model (EISDIR`));
  });
});
