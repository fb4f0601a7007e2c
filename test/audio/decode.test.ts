// decodeAudio against independent writers: WAVs in every supported sample format written by ffmpeg
// from a float64 source we generate, compressed formats encoded by ffmpeg, stdin through the CLI,
// a missing ffmpeg, streaming, and the malformed-input suite (test/fixtures/malformed.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeAudio, decodeAudioChunks } from "../../src/audio/decode.ts";
import { PCM16_MONO, wavHeader } from "../../src/audio/wav-header.ts";
import { InputError } from "../../src/util/errors.ts";
import { writeMalformedAudio } from "../fixtures/malformed.ts";
import { run, snrDb, twoTones, writeFloat64Wav } from "./helpers.ts";
import { nastArgv } from "../helpers/cli.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "nast-decode-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Interleaved source where channel c carries the two tones scaled by (c + 1) / channels. */
function multichannel(rate: number, seconds: number, channels: number): { interleaved: Float64Array; mixGain: number } {
  const mono = twoTones(rate, seconds);
  const interleaved = new Float64Array(mono.length * channels);
  for (let i = 0; i < mono.length; i++) for (let c = 0; c < channels; c++) interleaved[i * channels + c] = (mono[i]! * (c + 1)) / channels;
  return { interleaved, mixGain: (channels + 1) / (2 * channels) };
}

/** SNR of a decoded 1 s two-tone signal against the exact 16 kHz signal (edges excluded). */
function decodedSnr(samples: Float32Array, gain: number, seconds = 1): number {
  const expected = twoTones(16000, seconds).map((v) => v * gain);
  assert.equal(samples.length, expected.length, "length at 16 kHz");
  return snrDb(samples, expected, 200, expected.length - 200);
}

describe("WAV sample formats (written by ffmpeg)", () => {
  const codecs: Array<[string, number]> = [
    // 8-bit and companded codecs are limited by their quantisation, 16-bit by its own, the rest by
    // our resampler (≈ 110 dB on these tones).
    ["pcm_u8", 40],
    ["pcm_s16le", 85],
    ["pcm_s24le", 100],
    ["pcm_s32le", 100],
    ["pcm_f32le", 100],
    ["pcm_f64le", 100],
    ["pcm_alaw", 36],
    ["pcm_mulaw", 36],
  ];
  for (const [codec, minSnr] of codecs) {
    test(`${codec}, 44.1 kHz stereo → 16 kHz mono (SNR ≥ ${minSnr} dB)`, async (t) => {
      const src = join(dir, `src-${codec}.wav`);
      const { interleaved, mixGain } = multichannel(44100, 1, 2);
      writeFloat64Wav(src, interleaved, 44100, 2);
      const out = join(dir, `${codec}.wav`);
      run("ffmpeg", ["-v", "error", "-y", "-i", src, "-c:a", codec, out]);
      const audio = await decodeAudio(out);
      assert.equal(audio.sampleRate, 16000);
      assert.ok(Math.abs(audio.duration - 1) < 1e-9);
      const snr = decodedSnr(audio.samples, mixGain);
      t.diagnostic(`SNR ${snr.toFixed(1)} dB`);
      assert.ok(snr >= minSnr, `SNR ${snr}`);
    });
  }

  for (const rate of [8000, 11025, 16000, 22050, 32000, 48000, 96000]) {
    test(`16-bit mono at ${rate} Hz`, async () => {
      const src = join(dir, `rate-${rate}-src.wav`);
      writeFloat64Wav(src, twoTones(rate, 1), rate);
      const out = join(dir, `rate-${rate}.wav`);
      run("ffmpeg", ["-v", "error", "-y", "-i", src, "-c:a", "pcm_s16le", out]);
      const audio = await decodeAudio(out);
      assert.ok(decodedSnr(audio.samples, 1) >= 75);
    });
  }

  test("6 channels, 32-bit float, extensible header: channel average", async () => {
    const src = join(dir, "six-src.wav");
    const { interleaved, mixGain } = multichannel(48000, 1, 6);
    writeFloat64Wav(src, interleaved, 48000, 6);
    const out = join(dir, "six.wav");
    run("ffmpeg", ["-v", "error", "-y", "-i", src, "-c:a", "pcm_f32le", out]);
    assert.equal(readFileSync(out).readUInt16LE(20), 0xfffe, "ffmpeg wrote WAVE_FORMAT_EXTENSIBLE");
    assert.ok(decodedSnr((await decodeAudio(out)).samples, mixGain) >= 90);
  });

  test("a Buffer decodes like the file; pipe-written placeholder sizes read to the end", async () => {
    const src = join(dir, "pipe-src.wav");
    writeFloat64Wav(src, twoTones(22050, 1), 22050);
    const fromFile = await decodeAudio(src);
    assert.deepEqual((await decodeAudio(readFileSync(src))).samples, fromFile.samples);
    // ffmpeg writes 0xffffffff sizes to a pipe, sox 0x7ffff000: both mean "until the end".
    const ffmpegPipe = run("ffmpeg", ["-v", "error", "-i", src, "-c:a", "pcm_s16le", "-f", "wav", "-"]);
    assert.equal(ffmpegPipe.readUInt32LE(4), 0xffffffff);
    assert.ok(decodedSnr((await decodeAudio(ffmpegPipe)).samples, 1) >= 75);
    const soxPipe = run("sox", [src, "-b", "16", "-t", "wav", "-"]);
    assert.ok(decodedSnr((await decodeAudio(soxPipe)).samples, 1) >= 70);
  });
});

describe("other formats through ffmpeg", () => {
  // [extension, ffmpeg output args, lossless]
  const formats: Array<[string, string[], boolean]> = [
    ["flac", ["-c:a", "flac"], true],
    ["mp3", ["-c:a", "libmp3lame", "-b:a", "128k"], false],
    ["ogg", ["-c:a", "libvorbis"], false],
    ["opus", ["-c:a", "libopus", "-b:a", "64k"], false],
    ["m4a", ["-c:a", "aac", "-b:a", "128k"], false],
    ["webm", ["-c:a", "libopus"], false],
    ["mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2", "-map", "1:v", "-map", "0:a", "-c:v", "mpeg4", "-c:a", "aac", "-shortest"], false],
  ];
  for (const [ext, args, lossless] of formats) {
    test(`${ext}${ext === "mp4" ? " (audio track of a video)" : ""}`, async (t) => {
      const src = join(dir, `fmt-${ext}-src.wav`);
      writeFloat64Wav(src, twoTones(44100, 2), 44100);
      const out = join(dir, `fmt.${ext}`);
      const inputs = ["-i", src];
      run("ffmpeg", ["-v", "error", "-y", ...inputs, ...args, out]);
      const audio = await decodeAudio(out);
      assert.equal(audio.sampleRate, 16000);
      assert.ok(Math.abs(audio.duration - 2) < 0.08, `duration ${audio.duration}`);
      const expected = twoTones(16000, 2);
      const n = Math.min(expected.length, audio.samples.length);
      const snr = snrDb(audio.samples, expected, 1600, n - 1600);
      t.diagnostic(`SNR ${snr.toFixed(1)} dB`);
      // Lossy codecs at these bit rates keep two tones well above 15 dB once ffmpeg removes the
      // encoder delay; a misaligned or wrongly scaled decode would fall far below.
      assert.ok(snr >= (lossless ? 70 : 15), `SNR ${snr}`);
    });
  }

  test("a missing ffmpeg gives a clear error naming the file", async () => {
    const src = join(dir, "needs-ffmpeg.flac");
    writeFloat64Wav(join(dir, "nf.wav"), twoTones(16000, 0.5), 16000);
    run("ffmpeg", ["-v", "error", "-y", "-i", join(dir, "nf.wav"), src]);
    await assert.rejects(decodeAudio(src, { ffmpeg: join(dir, "no-such-ffmpeg") }), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, new RegExp(`^${src.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: decoding this format needs ffmpeg, which was not found`));
      return true;
    });
    // Bytes (piped to ffmpeg's stdin) with the binary named by $NAST_FFMPEG.
    const saved = process.env.NAST_FFMPEG;
    process.env.NAST_FFMPEG = join(dir, "still-no-ffmpeg");
    try {
      await assert.rejects(decodeAudio(readFileSync(src), { name: "upload.flac" }), /^InputError: upload\.flac: decoding this format needs ffmpeg.*still-no-ffmpeg/);
    } finally {
      if (saved === undefined) delete process.env.NAST_FFMPEG;
      else process.env.NAST_FFMPEG = saved;
    }
  });
});

describe("stdin and the CLI", () => {
  function features(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
    const r = spawnSync(process.execPath, nastArgv(["features", ...args]), { input });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
  }

  test('"-" reads WAV and mp3 from stdin; "-o -" writes the .npy to stdout', () => {
    const wav = join(dir, "stdin.wav");
    writeFloat64Wav(wav, twoTones(22050, 1), 22050);
    const fromFile = features([wav, "-o", "-"]);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const fromStdin = features(["-", "-o", "-"], readFileSync(wav));
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.deepEqual(fromStdin.stdout, fromFile.stdout);
    assert.equal(fromFile.stdout.length, 128 + 98 * 80 * 4, "98 frames of 80 float32 after a 128-byte header");

    const mp3 = join(dir, "stdin.mp3");
    run("ffmpeg", ["-v", "error", "-y", "-i", wav, "-c:a", "libmp3lame", mp3]);
    const mp3Out = join(dir, "stdin-mp3.npy");
    const r = features(["-", "-o", mp3Out], readFileSync(mp3));
    assert.equal(r.status, 0, r.stderr);
    const frames = (readFileSync(mp3Out).length - 128) / 320;
    assert.ok(frames >= 97 && frames <= 101, `frames ${frames}`);
  });

  test("usage errors exit 2", () => {
    assert.equal(features([]).status, 2);
    assert.equal(features(["x.wav"]).status, 2);
    assert.equal(features(["--nope"]).status, 2);
  });

  test("a bad input is reported by name and the others are still written", () => {
    const good = join(dir, "good.wav");
    writeFloat64Wav(good, twoTones(16000, 0.5), 16000);
    const missing = join(dir, "missing.wav");
    const outDir = join(dir, "multi");
    const r = features([missing, good, "-o", outDir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing\.wav: no such file/);
    assert.equal(readFileSync(join(outDir, "good.npy")).length, 128 + 48 * 320);
  });
});

describe("long input, bounded memory", () => {
  test("10 minutes streamed in bounded blocks; decodeAudio allocates the result once", async () => {
    const seconds = 600;
    const rate = 16000;
    const pcm = new Int16Array(seconds * rate);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
    const path = join(dir, "long.wav");
    writeFileSync(path, Buffer.concat([wavHeader(PCM16_MONO(rate), pcm.byteLength), Buffer.from(pcm.buffer)]));

    global.gc?.();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let total = 0;
    let largest = 0;
    let checksum = 0;
    for await (const block of decodeAudioChunks(path)) {
      total += block.length;
      largest = Math.max(largest, block.length);
      checksum += block[0]!;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }
    assert.equal(total, seconds * rate);
    assert.ok(largest <= 1 << 16, `largest block ${largest}`);
    // The whole signal as float32 is 38 MB; streaming must stay far below (garbage may linger).
    assert.ok(peak < 30e6, `arrayBuffers grew by ${peak} bytes while streaming`);
    assert.ok(Number.isFinite(checksum));

    const audio = await decodeAudio(path);
    assert.equal(audio.samples.length, seconds * rate);
    assert.equal(audio.samples.buffer.byteLength, seconds * rate * 4, "no slack, no second copy");
    assert.ok(Math.abs(audio.samples[4]! - pcm[4]! / 32768) < 1e-7);
  });
});

describe("malformed inputs: a clear error naming the input, no crash, no hang, no huge allocation", () => {
  test("every item of the suite", { timeout: 60_000 }, async (t) => {
    const items = await writeMalformedAudio(join(dir, "malformed"));
    assert.ok(items.length >= 15);
    for (const item of items) {
      const before = process.memoryUsage().arrayBuffers;
      await assert.rejects(decodeAudio(item.path), (err: Error) => {
        assert.ok(err instanceof InputError, `${item.name}: ${err.stack}`);
        assert.ok(err.message.startsWith(`${item.path}: `), `${item.name}: ${err.message}`);
        assert.match(err.message, item.expect, item.name);
        return true;
      });
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 16e6, `${item.name}: arrayBuffers grew by ${grown}`);
      t.diagnostic(`${item.name}: ok`);
    }
    // The same bytes given as a Buffer are named by the caller's label.
    const truncated = items.find((i) => i.name === "truncated-wav")!;
    await assert.rejects(decodeAudio(readFileSync(truncated.path), { name: "upload #3" }), /^InputError: upload #3: header declares/);
  });
});
