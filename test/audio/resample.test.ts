// The windowed-sinc resampler on sine sweeps: against the exact sweep at 16 kHz, against sox's and
// ffmpeg's resamplers on the same input, for aliasing, and for streaming = whole-signal output.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Resampler, resample } from "../../src/audio/resample.ts";
import { run, snrDb, sweep, writeFloat64Wav } from "./helpers.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "nast-resample-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const SECONDS = 3;
/** Sweep 50 Hz → 7 kHz: the band a 16 kHz fbank uses, below the resampler's transition band. */
const F0 = 50;
const F1 = 7000;
/** Filter edges: skip the first and last 50 ms. */
const EDGE = 800;

function float32Raw(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe("resampler on a 50 Hz–7 kHz sine sweep", () => {
  for (const rate of [8000, 11025, 22050, 44100, 48000, 96000, 44101]) {
    test(`${rate} Hz → 16 kHz against the exact sweep`, (t) => {
      const input = Float32Array.from(sweep(rate, SECONDS, F0, Math.min(F1, rate * 0.4)));
      const out = resample(input, rate, 16000);
      const exact = sweep(16000, SECONDS, F0, Math.min(F1, rate * 0.4));
      assert.equal(out.length, exact.length);
      const snr = snrDb(out, exact, EDGE, exact.length - EDGE);
      t.diagnostic(`SNR ${snr.toFixed(1)} dB`);
      assert.ok(snr >= 90, `SNR ${snr}`);
    });
  }

  test("44.1 kHz → 16 kHz against sox (rate -v) and ffmpeg (swr)", (t) => {
    const rate = 44100;
    const input = sweep(rate, SECONDS, F0, F1);
    const src = join(dir, "sweep.wav");
    writeFloat64Wav(src, input, rate);
    const ours = resample(Float32Array.from(input), rate, 16000);
    const sox = float32Raw(run("sox", [src, "-t", "f32", "-", "rate", "-v", "16000"]));
    const ffmpeg = float32Raw(run("ffmpeg", ["-v", "error", "-i", src, "-af", "aresample=16000:filter_size=64:cutoff=0.95", "-f", "f32le", "-"]));
    const exact = sweep(16000, SECONDS, F0, F1);
    const n = exact.length;
    const snrSox = snrDb(ours, sox, EDGE, n - EDGE);
    const snrFfmpeg = snrDb(ours, ffmpeg, EDGE, n - EDGE);
    const soxExact = snrDb(sox, exact, EDGE, n - EDGE);
    const ffmpegExact = snrDb(ffmpeg, exact, EDGE, n - EDGE);
    const oursExact = snrDb(ours, exact, EDGE, n - EDGE);
    t.diagnostic(`SNR ours vs sox ${snrSox.toFixed(1)} dB, vs ffmpeg ${snrFfmpeg.toFixed(1)} dB; vs exact: ours ${oursExact.toFixed(1)}, sox ${soxExact.toFixed(1)}, ffmpeg ${ffmpegExact.toFixed(1)} dB`);
    assert.ok(snrSox >= 60, `vs sox ${snrSox}`);
    assert.ok(snrFfmpeg >= 40, `vs ffmpeg ${snrFfmpeg}`);
    assert.ok(oursExact >= soxExact - 3, "at least as close to the exact sweep as sox, within 3 dB");
  });

  test("content above 8 kHz does not alias into the output", () => {
    const rate = 44100;
    const high = Float32Array.from(sweep(rate, SECONDS, 8600, 20000));
    const out = resample(high, rate, 16000);
    let energy = 0;
    for (let i = EDGE; i < out.length - EDGE; i++) energy += out[i]! * out[i]!;
    const inEnergy = (0.5 * 0.5) / 2 * (out.length - 2 * EDGE);
    const db = 10 * Math.log10(energy / inEnergy);
    assert.ok(db < -90, `alias level ${db.toFixed(1)} dB`);
  });

  test("streaming in odd-sized blocks gives exactly the whole-signal result", () => {
    const rate = 22050;
    const input = Float32Array.from(sweep(rate, 1, F0, 5000));
    const whole = resample(input, rate, 16000);
    const r = new Resampler(rate, 16000);
    const parts: Float32Array[] = [];
    let pos = 0;
    let size = 1;
    while (pos < input.length) {
      parts.push(r.push(input.subarray(pos, pos + size)));
      pos += size;
      size = (size * 7 + 3) % 5000;
    }
    parts.push(r.flush());
    const streamed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      streamed.set(p, o);
      o += p.length;
    }
    assert.deepEqual(streamed, whole);
  });

  test("upsampling 8 kHz → 16 kHz keeps a 3 kHz tone and the length", () => {
    const input = new Float32Array(8000).map((_, i) => Math.sin((2 * Math.PI * 3000 * i) / 8000));
    const out = resample(input, 8000, 16000);
    assert.equal(out.length, 16000);
    const exact = Float64Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * 3000 * i) / 16000));
    assert.ok(snrDb(out, exact, EDGE, 16000 - EDGE) > 80);
  });

  test("bad rates are refused", () => {
    assert.throws(() => new Resampler(0, 16000), /bad input rate 0/);
    assert.throws(() => new Resampler(1, 16000), /bad input rate 1/);
    assert.throws(() => new Resampler(44100.5, 16000), /bad input rate/);
  });
});

