// The fbank against torchaudio.compliance.kaldi.fbank: the stored vectors (test/vectors/fbank-vectors.json; docs/design.md §7.2) and
// references computed now by Debian's python3-torchaudio on signals generated here (speech from
// espeak-ng, noise, silence, clipping, square wave, DC, a 30 ms clip, inputs shorter than a window),
// through decodeAudio + fbank and through the `nast features` CLI (.npy read back by numpy too).
// Our port computes in float64. torchaudio run on float64 input is the exact reference: we match it
// within 1e-3 everywhere. torchaudio on float32 input (what fairseq runs) carries its own rounding
// error, up to 3e-2 in low-energy mel bins of loud frames (a tone on a large DC offset; its float32
// FFT against our float64 one, where the float64 reference agrees with ours), so against float32 each
// cell may differ by 1e-3 plus twice torchaudio's own float32-vs-float64 difference in that cell.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeAudio } from "../../src/audio/decode.ts";
import { FBANK_DIM, fbank, fbankFrameCount } from "../../src/audio/fbank.ts";
import { RealFft } from "../../src/audio/fft.ts";
import { Rng } from "../../src/util/rng.ts";
import { PYTHON, espeakInt16, run, writeInt16Wav } from "./helpers.ts";
import { nastArgv } from "../helpers/cli.ts";

const TOLERANCE = 1e-3;
const vectors = JSON.parse(readFileSync(new URL("../vectors/fbank-vectors.json", import.meta.url), "utf8"));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("real FFT power spectrum", () => {
  test("equals a direct DFT for sizes 4 … 1024", () => {
    const rng = new Rng(11);
    for (const size of [4, 8, 16, 64, 512, 1024]) {
      const x = Float64Array.from({ length: size }, () => rng.normal());
      const power = new Float64Array(size / 2 + 1);
      new RealFft(size).powerSpectrum(x, power);
      for (let k = 0; k <= size / 2; k++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < size; n++) {
          re += x[n]! * Math.cos((2 * Math.PI * k * n) / size);
          im -= x[n]! * Math.sin((2 * Math.PI * k * n) / size);
        }
        const exact = re * re + im * im;
        assert.ok(Math.abs(power[k]! - exact) <= 1e-9 * (1 + exact), `size ${size} bin ${k}: ${power[k]} vs ${exact}`);
      }
    }
    assert.throws(() => new RealFft(400), /power of two/);
  });
});

describe("fbank vs fbank-vectors.json", () => {
  const samples = Float32Array.from(vectors.samples_int16 as number[], (x) => x / 32768);
  const result = fbank(samples, 16000);

  test("frame count and shape", () => {
    assert.equal(result.frames, vectors.num_frames);
    assert.equal(result.dim, FBANK_DIM);
    assert.equal(fbankFrameCount(vectors.num_samples), vectors.num_frames);
  });

  test("matches the float32 and float64 references within 1e-3", (t) => {
    const d32 = maxAbsDiff(result.data, (vectors.fbank_float32 as number[][]).flat());
    const d64 = maxAbsDiff(result.data, (vectors.fbank_float64 as number[][]).flat());
    t.diagnostic(`max |diff| vs float32 ${d32.toExponential(2)}, vs float64 ${d64.toExponential(2)}`);
    assert.ok(d32 <= TOLERANCE, `vs float32: ${d32}`);
    assert.ok(d64 <= TOLERANCE, `vs float64: ${d64}`);
  });

  test("all-zero input gives log(float32 eps) everywhere", () => {
    const zero = fbank(new Float32Array(800));
    assert.equal(zero.frames, vectors.all_zero_num_frames);
    for (const [i, v] of (vectors.all_zero_input_800_samples_first_frame_first3 as number[]).entries()) {
      assert.ok(Math.abs(zero.data[i]! - v) < 1e-5);
    }
    assert.ok(zero.data.every((v) => Math.abs(v - -15.942384719848633) < 1e-5));
  });

  test("inputs shorter than one 25 ms window give 0 frames", () => {
    for (const n of [0, 1, 100, 399]) {
      const r = fbank(new Float32Array(n).fill(0.1));
      assert.equal(r.frames, 0);
      assert.equal(r.data.length, 0);
    }
    assert.equal(fbank(new Float32Array(400)).frames, 1);
    assert.equal(fbank(new Float32Array(559)).frames, 1);
    assert.equal(fbank(new Float32Array(560)).frames, 2);
  });

  test("writes into a caller's buffer and refuses a short one", () => {
    const out = new Float32Array(result.frames * FBANK_DIM);
    fbank(samples, 16000, out);
    assert.deepEqual(out, result.data);
    assert.throws(() => fbank(samples, 16000, new Float32Array(10)), /too small/);
  });
});

describe("fbank vs torchaudio on generated 16 kHz WAVs", () => {
  let dir = "";
  const signals = new Map<string, Int16Array>();
  let refs: Record<string, { frames?: number; error?: string }> = {};
  let npyInfo: Record<string, { shape: number[]; dtype: string }> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nast-fbank-"));
    const rng = new Rng(7);
    const speech = espeakInt16("Speech translation turns talks into text in another language, quickly.", "en", dir, "speech");
    signals.set("speech", speech);
    signals.set("speech-female", espeakInt16("Features must match to three decimals.", "en+f3", dir, "speech2"));
    signals.set("noise", Int16Array.from({ length: 24000 }, () => Math.max(-32768, Math.min(32767, Math.round(rng.normal() * 3000)))));
    signals.set("silence", new Int16Array(16000));
    signals.set("quiet", Int16Array.from({ length: 8000 }, () => rng.int(3) - 1));
    signals.set("clipping", Int16Array.from({ length: 14400 }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(100000 * Math.sin((2 * Math.PI * 300 * i) / 16000))))));
    signals.set("square", Int16Array.from({ length: 16000 }, (_, i) => (Math.floor((i * 440 * 2) / 16000) % 2 === 0 ? 12000 : -12000)));
    signals.set("dc-offset", Int16Array.from({ length: 8000 }, (_, i) => 9000 + Math.round(2000 * Math.sin((2 * Math.PI * 1000 * i) / 16000))));
    const mid = Math.floor(speech.length / 2);
    signals.set("clip-30ms", speech.slice(mid, mid + 480));
    signals.set("short-399", speech.slice(mid, mid + 399));
    signals.set("short-400", speech.slice(mid, mid + 400));
    signals.set("short-560", speech.slice(mid, mid + 560));
    for (const [name, s] of signals) writeInt16Wav(join(dir, `${name}.wav`), s);

    // Our CLI on every file at once (one bad input must not stop the others: the short ones fail).
    const paths = [...signals.keys()].map((n) => join(dir, `${n}.wav`));
    spawnCli(nastArgv(["features", ...paths, "-o", join(dir, "npy")]));

    const script = `
import sys, json, wave, os
import numpy as np, torch
import torchaudio.compliance.kaldi as kaldi
refs, npys = {}, {}
wav_dir, npy_dir = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    w = wave.open(os.path.join(wav_dir, name + ".wav"))
    assert w.getsampwidth() == 2 and w.getnchannels() == 1
    x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    try:
        # fairseq: soundfile floats * 2**15, i.e. the int16 values; dither 0, 80 bins, other defaults.
        t = torch.from_numpy(x).unsqueeze(0)
        f = kaldi.fbank(t, num_mel_bins=80, sample_frequency=w.getframerate(), dither=0.0)
        f.numpy().astype("<f4").tofile(os.path.join(wav_dir, name + ".ref32.f32"))
        f64 = kaldi.fbank(t.double(), num_mel_bins=80, sample_frequency=w.getframerate(), dither=0.0)
        f64.numpy().astype("<f4").tofile(os.path.join(wav_dir, name + ".ref64.f32"))
        refs[name] = {"frames": int(f.shape[0])}
    except Exception as e:
        refs[name] = {"error": str(e)}
    p = os.path.join(npy_dir, name + ".npy")
    if os.path.exists(p):
        a = np.load(p)
        npys[name] = {"shape": list(a.shape), "dtype": str(a.dtype)}
print(json.dumps({"refs": refs, "npys": npys}))
`;
    const out = JSON.parse(run(PYTHON, ["-c", script, dir, join(dir, "npy"), ...signals.keys()]).toString());
    refs = out.refs;
    npyInfo = out.npys;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function reference(name: string, precision: "32" | "64" = "64"): Float32Array {
    const bytes = readFileSync(join(dir, `${name}.ref${precision}.f32`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  test("decodeAudio + fbank match torchaudio within 1e-3 on every signal", async (t) => {
    const report: string[] = [];
    let worst = 0;
    for (const name of signals.keys()) {
      const audio = await decodeAudio(join(dir, `${name}.wav`));
      const ours = fbank(audio.samples, audio.sampleRate);
      const ref = refs[name]!;
      if (ref.error !== undefined) {
        // torchaudio refuses inputs shorter than a window; we return 0 frames instead.
        assert.ok(signals.get(name)!.length < 400, `${name}: torchaudio failed: ${ref.error}`);
        assert.equal(ours.frames, 0, name);
        continue;
      }
      assert.equal(ours.frames, ref.frames, `${name}: frame count`);
      const diff = maxAbsDiff(ours.data, reference(name, "64"));
      const ref32 = reference(name, "32");
      const diff32 = maxAbsDiff(ours.data, ref32);
      const ref64 = reference(name, "64");
      let over = 0;
      let unexplained = 0;
      for (let i = 0; i < ref32.length; i++) {
        const d = Math.abs(ours.data[i]! - ref32[i]!);
        if (d > TOLERANCE) over++;
        if (d > TOLERANCE + 2 * Math.abs(ref32[i]! - ref64[i]!)) unexplained++;
      }
      worst = Math.max(worst, diff);
      report.push(`${name} ${ours.frames}f f64 ${diff.toExponential(2)} f32 ${diff32.toExponential(2)} (${over} cells > 1e-3)`);
      assert.ok(diff <= TOLERANCE, `${name}: max |diff| vs torchaudio float64 ${diff}`);
      assert.equal(unexplained, 0, `${name}: ${unexplained} cells differ from float32 torchaudio beyond 1e-3 + its own float32 error`);
    }
    t.diagnostic(`max |diff| per signal: ${report.join(", ")}; worst vs float64 ${worst.toExponential(2)}`);
    assert.ok(refs["short-399"]!.error !== undefined, "torchaudio should refuse 399 samples");
  });

  test("`nast features` .npy files load in numpy and match torchaudio", () => {
    for (const name of signals.keys()) {
      const ref = refs[name]!;
      if (ref.error !== undefined) {
        assert.equal(npyInfo[name], undefined, `${name}: no .npy for an input shorter than a window`);
        continue;
      }
      assert.deepEqual(npyInfo[name], { shape: [ref.frames, 80], dtype: "float32" }, name);
      const npy = readFileSync(join(dir, "npy", `${name}.npy`));
      assert.deepEqual([...npy.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      const headerLength = npy.readUInt16LE(8);
      assert.equal((10 + headerLength) % 64, 0, "header padded to 64 bytes");
      assert.equal(npy[10 + headerLength - 1], 0x0a);
      const data = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength, npy.byteOffset + npy.length));
      assert.ok(maxAbsDiff(data, reference(name, "64")) <= TOLERANCE, name);
    }
  });
});

/** Runs node with args; the CLI exits 1 here because the short inputs are refused (named on stderr). */
function spawnCli(args: string[]): void {
  const result = spawnSyncNode(args);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /short-399\.wav: is 0\.025 s long, shorter than one 25 ms fbank window/);
}

function spawnSyncNode(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}
