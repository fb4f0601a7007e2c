// The acoustic augmenter (src/corpus/augment.ts and its pieces): convolution, simulated rooms, G.711,
// SNRs, codecs' timing, VTLP, the plan's switches and determinism, and the dev/test plans pinned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ComplexFft } from "../../src/audio/fft.ts";
import { convolveAligned, meanPower } from "../../src/corpus/dsp.ts";
import { ROOM_PAD, drawRoom, eyringAbsorption, eyringRt60, measureRt60, roomImpulseResponse, sabineRt60 } from "../../src/corpus/rooms.ts";
import { alawToLinear, g711RoundTrip, linearToAlaw, linearToUlaw, ulawToLinear } from "../../src/corpus/codecs.ts";
import { type AugmentAssets, type Augmentation, type AugmentKind, applyAugmentation, augmentKinds, describeAugmentation, loopClip, mixAtSnr, onsetIndex, parseAugmentKinds } from "../../src/corpus/augment.ts";
import { AssetKit, dep5Licence } from "../../src/corpus/assets.ts";
import { vtlp } from "../../src/corpus/vtlp.ts";
import { drawAugmentation, planTalks } from "../../src/corpus/talks.ts";
import type { CorpusEntry } from "../../src/corpus/corpus-text.ts";
import { Rng } from "../../src/corpus/rng.ts";
import { systemTools } from "../../src/corpus/tools.ts";
import { wavBytes } from "../../src/corpus/effects.ts";

const tools = systemTools();
const RATE = 16000;
const has = (bin: string) => spawnSync(bin, ["--help"], { stdio: "ignore" }).error === undefined;
const work = mkdtempSync(join(tmpdir(), "nast-augment-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** A speech-like test signal: bursts of harmonic tones at known sample ranges, silence between. */
function bursts(seconds: number, seed = 1): { x: Float32Array; speech: [number, number][] } {
  const x = new Float32Array(seconds * RATE);
  const rng = new Rng(seed);
  const speech: [number, number][] = [];
  for (let s = 0.4; s + 1.6 < seconds; s += 2) {
    const a = Math.round(s * RATE);
    const b = a + Math.round(1.2 * RATE);
    speech.push([a, b]);
    const f0 = rng.uniform(100, 220);
    for (let i = a; i < b; i++) {
      let v = 0;
      for (let h = 1; h <= 12; h++) v += Math.sin((2 * Math.PI * f0 * h * i) / RATE) / h;
      x[i] = 0.15 * v;
    }
  }
  return { x, speech };
}

const snrDb = (clean: Float32Array, mixed: Float32Array, regions: [number, number][]) => {
  let s = 0, n = 0;
  for (const [a, b] of regions) for (let i = a; i < b; i++, n++) s += clean[i]! * clean[i]!;
  const noise = mixed.map((v, i) => v - clean[i]!);
  return 10 * Math.log10(s / n / meanPower(noise));
};

test("FFT: forward then inverse is the identity, and a delta's spectrum is flat", () => {
  const f = new ComplexFft(1024);
  const re = Float64Array.from({ length: 1024 }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
  const im = new Float64Array(1024);
  const orig = Float64Array.from(re);
  f.transform(re, im);
  f.transform(re, im, true);
  for (let i = 0; i < 1024; i++) assert.ok(Math.abs(re[i]! - orig[i]!) < 1e-12 && Math.abs(im[i]!) < 1e-12, `sample ${i}`);
  const dr = new Float64Array(1024), di = new Float64Array(1024);
  dr[3] = 1;
  f.transform(dr, di);
  for (let k = 0; k < 1024; k++) assert.ok(Math.abs(Math.hypot(dr[k]!, di[k]!) - 1) < 1e-12, `bin ${k}`);
});

test("convolving an impulse gives the impulse response, aligned on `align`; random input matches direct convolution", () => {
  const rng = new Rng(4);
  const h = Float32Array.from({ length: 3000 }, () => rng.uniform(-1, 1));
  const x = new Float32Array(50000);
  x[20000] = 1;
  const y = convolveAligned(x, h, 100);
  for (let k = 0; k < h.length; k++) assert.ok(Math.abs(y[20000 - 100 + k]! - h[k]!) < 1e-5, `tap ${k}`);
  assert.ok(Math.abs(y[20000 - 101]!) < 1e-6 && Math.abs(y[20000 - 100 + h.length]!) < 1e-6, "output outside the response");
  // Several blocks (the pairs of real blocks in one complex FFT), against the direct sum.
  const xs = Float32Array.from({ length: 40000 }, () => rng.uniform(-1, 1));
  const hs = h.subarray(0, 700);
  const ys = convolveAligned(xs, hs, 5);
  for (const n of [0, 1, 4, 5, 12287, 12288, 12289, 20000, 39999]) {
    let ref = 0;
    for (let k = 0; k < hs.length; k++) if (n + 5 - k >= 0 && n + 5 - k < xs.length) ref += hs[k]! * xs[n + 5 - k]!;
    assert.ok(Math.abs(ys[n]! - ref) < 1e-4, `n=${n}: ${ys[n]} vs ${ref}`);
  }
});

test("image-source room: direct path at ROOM_PAD with gain 1, RT60 within 15% of Eyring's for the absorption (Sabine longer)", () => {
  for (const [dims, rt60] of [[[5, 4.6, 4], 0.5], [[3.2, 3.1, 2.5], 0.3]] as [[number, number, number], number][]) {
    const absorption = eyringAbsorption(dims, rt60);
    assert.ok(Math.abs(eyringRt60(dims, absorption) - rt60) < 1e-9, "eyringAbsorption inverts eyringRt60");
    assert.ok(sabineRt60(dims, absorption) > rt60, "Sabine shorter than Eyring");
    const room = { dims, source: [1.37, 1.21, 1.6] as [number, number, number], mic: [dims[0] - 1.13, dims[1] - 0.91, 1.13] as [number, number, number], rt60, absorption };
    const h = roomImpulseResponse(room, RATE, rt60 * 1.1, 4_000_000);
    assert.ok(Math.abs(h[ROOM_PAD]! - 1) < 0.05, `direct ${h[ROOM_PAD]}`);
    for (let i = 0; i < ROOM_PAD - 1; i++) assert.ok(Math.abs(h[i]!) < 0.05, `before the direct path: h[${i}] = ${h[i]}`);
    const t20 = measureRt60(h, RATE, 20);
    assert.ok(Math.abs(t20 - rt60) / rt60 < 0.15, `${dims.join("x")}: T20 ${t20.toFixed(3)} s vs Eyring ${rt60} s`);
  }
  // More absorption, shorter reverberation.
  const dims: [number, number, number] = [6, 5, 3];
  const t = (a: number) => measureRt60(roomImpulseResponse({ dims, source: [1.4, 1.3, 1.5], mic: [4.3, 3.2, 1.2], rt60: 0, absorption: a }, RATE, 0.8, 2_000_000), RATE);
  assert.ok(t(0.5) < t(0.3) && t(0.3) < t(0.15), `RT60 ${t(0.5)}, ${t(0.3)}, ${t(0.15)} for absorption 0.5, 0.3, 0.15`);
});

test("drawn rooms stay inside the ranges and their positions inside the room", () => {
  const rng = new Rng(9);
  for (let i = 0; i < 300; i++) {
    const r = drawRoom(rng);
    assert.ok(r.dims[0] >= 3 && r.dims[0] <= 20 && r.dims[1] >= 3 && r.dims[1] <= 15 && r.dims[2] >= 2.5 && r.dims[2] <= 6, r.dims.join("x"));
    assert.ok(r.rt60 >= 0.15 && r.rt60 <= 1 && r.absorption > 0 && r.absorption < 1, `rt60 ${r.rt60}, absorption ${r.absorption}`);
    for (const p of [r.source, r.mic]) for (let k = 0; k < 3; k++) assert.ok(p[k]! >= 0.5 - 1e-9 && p[k]! <= r.dims[k]! - 0.5 + 1e-9, `${p} in ${r.dims}`);
    assert.ok(Math.hypot(r.source[0] - r.mic[0], r.source[1] - r.mic[1], r.source[2] - r.mic[2]) >= 0.5, "source and mic too close");
  }
});

test("G.711: µ-law and A-law code values of ITU-T G.711's tables, and the same codes as sox's encoder for every 16-bit value", () => {
  // µ-law: 0 -> 0xFF; full-scale positive -> 0x80, negative -> 0x00; decoder outputs ±8031 (14-bit) = ±32124.
  assert.equal(linearToUlaw(0), 0xff);
  assert.equal(linearToUlaw(32767), 0x80);
  assert.equal(linearToUlaw(-32768), 0x00);
  assert.equal(ulawToLinear(0x80), 32124);
  assert.equal(ulawToLinear(0x00), -32124);
  assert.equal(ulawToLinear(0xff), 0);
  assert.equal(ulawToLinear(0x7f), 0);
  // A-law: even bits inverted (0x55): 0 -> 0xD5, -8 (-1 in 13 bits) -> 0x55; decoder ±1 (13-bit, ×8 = 8) and ±4032 (= 32256).
  assert.equal(linearToAlaw(0), 0xd5);
  assert.equal(linearToAlaw(-8), 0x55);
  assert.equal(linearToAlaw(32767), 0xaa);
  assert.equal(linearToAlaw(-32768), 0x2a);
  assert.equal(alawToLinear(0xd5), 8);
  assert.equal(alawToLinear(0x55), -8);
  assert.equal(alawToLinear(0xaa), 32256);
  assert.equal(alawToLinear(0x2a), -32256);
  // Every code decodes to a value that encodes back to the same code.
  for (let c = 0; c < 256; c++) {
    assert.equal(linearToAlaw(alawToLinear(c)), c, `A-law ${c}`);
    if (c !== 0x7f) assert.equal(linearToUlaw(ulawToLinear(c)), c, `µ-law ${c}`); // 0x7F and 0xFF both decode to 0
  }
  const all = Buffer.alloc(65536 * 2);
  for (let v = -32768; v < 32768; v++) all.writeInt16LE(v, 2 * (v + 32768));
  for (const [law, enc, fn] of [["u-law", "ulaw", linearToUlaw], ["a-law", "alaw", linearToAlaw]] as const) {
    const r = spawnSync("sox", ["-D", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-", "-t", "raw", "-e", law, "-b", "8", "-"], { input: all });
    assert.equal(r.status, 0, String(r.stderr));
    let diff = 0;
    for (let v = -32768; v < 32768; v++) if (r.stdout[v + 32768] !== fn(v)) diff++;
    assert.equal(diff, 0, `${enc}: ${diff} codes differ from sox`);
  }
  const x = Float32Array.from({ length: 800 }, (_, i) => 0.5 * Math.sin(i / 9));
  for (const law of ["ulaw", "alaw"] as const) {
    const y = g711RoundTrip(x, law);
    const err = 10 * Math.log10(meanPower(x) / meanPower(y.map((v, i) => v - x[i]!)));
    assert.ok(err > 33 && err < 45, `${law}: SNR ${err.toFixed(1)} dB (G.711's is ~38 dB)`);
  }
});

test("additive sources land at the requested SNR (to 0.01 dB): clips looped from an offset, coloured noise, two sources", async () => {
  const { x, speech } = bursts(12);
  const rng = new Rng(2);
  const clip = Float32Array.from({ length: 3 * RATE }, () => rng.normal() * 0.1);
  const assets: AugmentAssets = { audio: async () => clip };
  for (const [type, snr] of [["noise", 5], ["music", 22.5], ["babble", 11]] as const) {
    const y = await applyAugmentation(x, { speed: 1, additive: [{ type, file: "f.wav", start: 2.5, snrDb: snr }] }, assets, tools, new Rng(1), { speech });
    assert.ok(Math.abs(snrDb(x, y, speech) - snr) < 0.01, `${type}: ${snrDb(x, y, speech)}`);
  }
  for (const color of ["white", "pink", "brown"] as const) {
    const y = await applyAugmentation(x, { speed: 1, additive: [{ type: "colored", color, snrDb: 17 }] }, null, tools, new Rng(1), { speech });
    assert.ok(Math.abs(snrDb(x, y, speech) - 17) < 0.01, `${color}: ${snrDb(x, y, speech)}`);
  }
  // Two sources: each at its own SNR, so the sum of their powers is what the SNRs say (they are
  // independent: the cross term is small, hence the looser tolerance).
  const clip2 = Float32Array.from({ length: 5 * RATE }, () => rng.normal() * 0.3);
  const two: AugmentAssets = { audio: async (f) => (f === "a.wav" ? clip : clip2) };
  const both = await applyAugmentation(x, { speed: 1, additive: [{ type: "noise", file: "a.wav", start: 0, snrDb: 10 }, { type: "music", file: "b.wav", start: 1, snrDb: 15 }] }, two, tools, new Rng(1), { speech });
  const expected = -10 * Math.log10(10 ** -1 + 10 ** -1.5);
  assert.ok(Math.abs(snrDb(x, both, speech) - expected) < 0.1, `two sources: ${snrDb(x, both, speech)} dB, expected ${expected}`);
  const y = Float32Array.from(x);
  const n1 = loopClip(clip, 0, x.length);
  mixAtSnr(y, n1, 0.01, 10);
  assert.ok(Math.abs(10 * Math.log10(0.01 / meanPower(y.map((v, i) => v - x[i]!))) - 10) < 0.01, "mixAtSnr");
  // The loop is continuous (crossfaded), and starts where asked.
  const looped = loopClip(clip, RATE, 5 * RATE);
  assert.equal(looped[100], clip[RATE + 100]);
});

test("reverberation keeps the timing: onsets of segments stay put (simulated room and a measured-like response), length unchanged", async () => {
  const { x, speech } = bursts(8);
  // The first sample after `a − 800` (inside the pause before the segment) above 1% of full scale:
  // reverberation must neither delay the segment nor smear it before its start.
  const onset = (y: Float32Array, a: number) => {
    let i = a - 800;
    while (Math.abs(y[i]!) < 0.01) i++;
    return i;
  };
  // A measured response starts 1 ms before its first arrival (assets.ts), then a diffuse tail.
  const rng = new Rng(3);
  const rir = Float32Array.from({ length: 8000 }, (_, i) => (i < 16 ? 0 : i === 16 ? 1 : rng.normal() * 0.3 * Math.exp(-i / 2000)));
  assert.equal(onsetIndex(rir), 16);
  const plans: Augmentation[] = [
    { speed: 1, reverb: { type: "room", dims: [7, 5, 3], source: [2, 1.5, 1.6], mic: [4.5, 3.2, 1.1], rt60: 0.6, absorption: eyringAbsorption([7, 5, 3], 0.6), seconds: 0.5 } },
    { speed: 1, reverb: { type: "rir", file: "rir/x.wav" } },
  ];
  for (const plan of plans) {
    const y = await applyAugmentation(x, plan, { audio: async () => rir }, tools, new Rng(1), { speech });
    assert.equal(y.length, x.length);
    for (const [a] of speech) assert.ok(Math.abs(onset(y, a) - onset(x, a)) <= 32, `${plan.reverb!.type}: onset ${onset(y, a)} vs ${onset(x, a)}`);
    // The speech power is kept, and the tail rings into the pause after each segment.
    let before = 0, after = 0;
    for (const [a, b] of speech) for (let i = a; i < b; i++) (before += x[i]! ** 2), (after += y[i]! ** 2);
    assert.ok(Math.abs(10 * Math.log10(after / before)) < 0.01, `speech power changed by ${10 * Math.log10(after / before)} dB`);
    assert.ok(meanPower(y, speech[0]![1] + 400, speech[0]![1] + 1600) > 1e-6, "no reverberation tail");
  }
});

test("VTLP: warp 1 is the identity; 0.9 and 1.1 move the formant down and up and keep the pitch (the harmonics)", () => {
  const n = 2 * RATE;
  const amp = (s: Float32Array, f: number) => {
    let c = 0, q = 0;
    for (let i = RATE / 2; i < RATE + RATE / 2; i++) (c += s[i]! * Math.cos((2 * Math.PI * f * i) / RATE)), (q += s[i]! * Math.sin((2 * Math.PI * f * i) / RATE));
    return Math.hypot(c, q) / (RATE / 2);
  };
  // Vowel-like signals: harmonics of f0 shaped by one resonance.
  for (const [f0, formant] of [[125, 1000], [200, 1500], [110, 700]]) {
    const x = new Float32Array(n);
    const harmonics = Array.from({ length: Math.floor(3000 / f0) }, (_, k) => (k + 1) * f0);
    for (const f of harmonics) {
      const a = 0.1 / (1 + ((f - formant) / 130) ** 2);
      for (let i = 0; i < n; i++) x[i] = x[i]! + a * Math.sin((2 * Math.PI * f * i) / RATE);
    }
    assert.deepEqual(vtlp(x, 1), x);
    const centroid = (s: Float32Array) => harmonics.reduce((c, f) => c + f * amp(s, f) ** 2, 0) / harmonics.reduce((c, f) => c + amp(s, f) ** 2, 0);
    const c0 = centroid(x);
    for (const alpha of [0.9, 1.1]) {
      const y = vtlp(x, alpha);
      assert.equal(y.length, x.length);
      const shift = centroid(y) / c0 - 1;
      assert.ok(Math.sign(shift) === Math.sign(alpha - 1) && Math.abs(shift) > 0.05 && Math.abs(shift) < 0.12, `f0 ${f0}, formant ${formant}, warp ${alpha}: centroid moved ${(100 * shift).toFixed(1)}%`);
      // The energy stays on the harmonics of f0: the pitch did not move.
      const on = harmonics.reduce((s, f) => s + amp(y, f) ** 2, 0);
      const off = harmonics.reduce((s, f) => s + amp(y, f + f0 / 2) ** 2, 0);
      assert.ok(off < 0.01 * on, `f0 ${f0}, warp ${alpha}: ${off / on} of the energy between harmonics`);
    }
  }
});

test("gain and clipping: gain in dB, the recorder's full scale, hard and soft clipping relative to the peak", async () => {
  const x = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 20));
  const quiet = await applyAugmentation(x, { speed: 1, gainDb: -20 }, null, tools, new Rng(1));
  assert.ok(Math.abs(quiet[31]! / x[31]! - 0.1) < 1e-6, `-20 dB: ${quiet[31]! / x[31]!}`);
  const loud = await applyAugmentation(x, { speed: 1, gainDb: 12 }, null, tools, new Rng(1));
  assert.equal(Math.max(...loud), 1);
  const hard = await applyAugmentation(x, { speed: 1, clip: { type: "hard", level: 0.5 } }, null, tools, new Rng(1));
  assert.ok(Math.abs(Math.max(...hard) - 0.25) < 1e-6, `hard clip peak ${Math.max(...hard)}`);
  const soft = await applyAugmentation(x, { speed: 1, clip: { type: "soft", level: 0.5 } }, null, tools, new Rng(1));
  assert.ok(Math.max(...soft) < 0.25 && Math.max(...soft) > 0.2, `soft clip peak ${Math.max(...soft)}`);
});

test("codecs keep length and timing (the telephone band, G.711, GSM through sox, MP3 through lame, Opus through opus-tools)", async (t) => {
  const { x } = bursts(4);
  const lag = (a: Float32Array, b: Float32Array) => {
    let best = 0, bestC = -Infinity;
    for (let d = -40; d <= 40; d++) {
      let c = 0;
      for (let i = 8000; i < 56000; i++) c += a[i]! * b[i + d]!;
      if (c > bestC) (bestC = c), (best = d);
    }
    return best;
  };
  const channels: [Augmentation["channel"], boolean][] = [
    [{ type: "telephone" }, true], [{ type: "g711", law: "ulaw" }, true], [{ type: "g711", law: "alaw" }, true], [{ type: "gsm" }, true],
    [{ type: "mp3", kbps: 16 }, has("lame")], [{ type: "mp3", kbps: 32 }, has("lame")], [{ type: "opus", kbps: 6 }, has("opusenc")], [{ type: "opus", kbps: 16 }, has("opusenc")],
  ];
  const telephone = await applyAugmentation(x, { speed: 1, channel: { type: "telephone" } }, null, tools, new Rng(1));
  for (const [channel, available] of channels) {
    const name = describeAugmentation({ speed: 1, channel })[8]!;
    if (!available) {
      t.diagnostic(`${name}: skipped, its program is not installed`);
      continue;
    }
    const y = await applyAugmentation(x, { speed: 1, channel }, null, tools, new Rng(1));
    assert.equal(y.length, x.length, name);
    assert.ok(Math.abs(lag(x, y)) <= 2, `${name}: lag ${lag(x, y)}`);
    // Against what the channel should keep: the telephone band for the narrow-band codecs.
    const ref = ["g711", "gsm"].includes(channel!.type) ? telephone : x;
    const snr = 10 * Math.log10(meanPower(ref) / meanPower(y.map((v, i) => v - ref[i]!)));
    const floor = { telephone: -Infinity, g711: 25, gsm: 3, mp3: 3, opus: 3 }[channel!.type];
    assert.ok(snr > floor, `${name}: ${snr.toFixed(1)} dB`);
    // The same input through the same codec gives the same bytes.
    assert.deepEqual(await applyAugmentation(x, { speed: 1, channel }, null, tools, new Rng(1)), y, name);
  }
  // Narrow band: nothing left above 4 kHz.
  const wide = Float32Array.from({ length: 32000 }, (_, i) => Math.sin((2 * Math.PI * 6000 * i) / RATE) * 0.5);
  const tel = await applyAugmentation(wide, { speed: 1, channel: { type: "telephone" } }, null, tools, new Rng(1));
  assert.ok(meanPower(tel, 1000, 31000) < 1e-6 * meanPower(wide), "6 kHz through the telephone band");
});

test("each kind switched off is never drawn, the others' draws do not move, and without a kit the plan says what stood in", () => {
  const catalog = { rir: [{ file: "rir/a.wav", seconds: 1 }], noise: [{ file: "noise/a.wav", seconds: 9 }], music: [{ file: "music/a.wav", seconds: 15 }], babble: [{ file: "babble/a.wav", seconds: 8 }] };
  const field: Record<AugmentKind, (a: Augmentation) => boolean> = {
    speed: (a) => a.speed !== 1, tempo: (a) => a.tempo !== undefined, pitch: (a) => a.pitch !== undefined, vtlp: (a) => a.vtlp !== undefined,
    rir: (a) => a.reverb?.type === "rir", room: (a) => a.reverb?.type === "room",
    noise: (a) => !!a.additive?.some((s) => s.type === "noise"), colored: (a) => !!a.additive?.some((s) => s.type === "colored"),
    music: (a) => !!a.additive?.some((s) => s.type === "music"), babble: (a) => !!a.additive?.some((s) => s.type === "babble"),
    gain: (a) => a.gainDb !== undefined, clip: (a) => a.clip !== undefined,
    telephone: (a) => a.channel?.type === "telephone", g711: (a) => a.channel?.type === "g711", gsm: (a) => a.channel?.type === "gsm",
    mp3: (a) => a.channel?.type === "mp3", opus: (a) => a.channel?.type === "opus",
  };
  const draw = (i: number, kinds: readonly AugmentKind[], cat: typeof catalog | null = catalog) => drawAugmentation(Rng.derive(3, "augment", "train", i), kinds, cat ?? undefined);
  const all = Array.from({ length: 600 }, (_, i) => draw(i, augmentKinds));
  for (const k of augmentKinds) {
    const share = all.filter(field[k]).length / all.length;
    assert.ok(share > 0.01, `${k} drawn for ${share} of talks`);
    const without = augmentKinds.filter((x) => x !== k);
    const plans = Array.from({ length: 600 }, (_, i) => draw(i, without));
    assert.ok(!plans.some(field[k]), `${k} switched off but drawn`);
    const only = Array.from({ length: 200 }, (_, i) => draw(i, [k]));
    for (const p of only) for (const other of without) assert.ok(!field[other](p), `only ${k}: ${other} drawn`);
  }
  // Switching the codecs off leaves every other part of every plan as it was.
  const noCodec = parseAugmentKinds("voice,reverb,additive,level");
  all.forEach((p, i) => {
    const { channel: _channel, ...rest } = p;
    assert.deepEqual(draw(i, noCodec), rest);
  });
  assert.deepEqual(parseAugmentKinds("none"), []);
  assert.throws(() => parseAugmentKinds("reverb,echo"), /unknown augmentation 'echo'/);
  // No kit: rir -> room, noise/music/babble -> coloured noise, recorded in the plan.
  const bare = Array.from({ length: 300 }, (_, i) => draw(i, augmentKinds, null));
  assert.ok(!bare.some((p) => p.reverb?.type === "rir" || p.additive?.some((s) => s.type !== "colored")), "a real asset without a kit");
  assert.ok(bare.some((p) => p.fallback?.includes("rir->room")) && bare.some((p) => p.fallback?.includes("babble->colored")), "no fallback recorded");
  assert.ok(!all.some((p) => p.fallback), "a fallback with the kit");
  // Probabilities as documented (600 talks: within a few standard deviations).
  const share = (f: (a: Augmentation) => boolean) => all.filter(f).length / all.length;
  for (const [name, f, p] of [["reverb", (a: Augmentation) => a.reverb !== undefined, 0.5], ["additive", (a: Augmentation) => a.additive !== undefined, 0.6],
    ["codec", (a: Augmentation) => a.channel !== undefined, 0.2], ["vtlp", (a: Augmentation) => a.vtlp !== undefined, 0.3], ["level", (a: Augmentation) => a.gainDb !== undefined, 0.3]] as const) {
    assert.ok(Math.abs(share(f) - p) < 0.07, `${name}: ${share(f)} of talks, documented ${p}`);
  }
});

test("an empty plan leaves the samples alone; the same plan and seed give the same bytes", async () => {
  const { x, speech } = bursts(6);
  assert.equal(await applyAugmentation(x, { speed: 1 }, null, tools, new Rng(1), { speech, voice: false }), x);
  const plan = drawAugmentation(new Rng(11), augmentKinds);
  const full: Augmentation = { ...plan, vtlp: 1.05, reverb: { type: "room", ...drawRoom(new Rng(5)) }, additive: [{ type: "colored", color: "pink", snrDb: 12 }], gainDb: -3, channel: { type: "g711", law: "alaw" } };
  const a = wavBytes(await applyAugmentation(x, full, null, tools, new Rng(8), { speech }));
  const b = wavBytes(await applyAugmentation(x, full, null, tools, new Rng(8), { speech }));
  assert.ok(a.equals(b), "same plan and seed, other bytes");
  const c = wavBytes(await applyAugmentation(x, full, null, tools, new Rng(9), { speech }));
  assert.ok(!a.equals(c), "another noise seed, other noise");
});

test("the asset kit: manifest, catalog and audio; DEP-5 licences (last matching paragraph wins)", async () => {
  const dir = join(work, "kit");
  mkdirSync(join(dir, "noise"), { recursive: true });
  writeFileSync(join(dir, "noise", "a.wav"), wavBytes(Float32Array.from({ length: 1600 }, (_, i) => Math.sin(i / 3) * 0.5)));
  writeFileSync(join(dir, "manifest.tsv"), "file\tkind\tseconds\tpackage\tlicence\tcopyright\torigin\nnoise/a.wav\tnoise\t0.1\tpkg\tGPL-2+\tme\t/usr/share/x\n");
  const kit = new AssetKit(dir);
  assert.deepEqual(kit.catalog, { noise: [{ file: "noise/a.wav", seconds: 0.1 }] });
  assert.equal((await kit.audio("noise/a.wav")).length, 1600);
  assert.throws(() => kit.audio("noise/b.wav"), /not in the asset kit/);
  writeFileSync(join(dir, "manifest.tsv"), "file\tkind\tseconds\tpackage\tlicence\tcopyright\torigin\nnoise/zz.wav\tnoise\t0.1\tpkg\tGPL-2+\tme\tx\n");
  assert.throws(() => new AssetKit(dir), /zz\.wav is missing/);
  const dep5 = "Format: x\n\nFiles: *\nCopyright: 2003 A\nLicense: CC-BY-SA-3.0\n text of the licence\n\nFiles: fr-*\nCopyright: 2006 B\n C\nLicense: CC-BY-SA-3.0\n\nFiles: ru-* it-*\nCopyright: 2010 D\nLicense: CC-BY-3.0\n";
  assert.deepEqual(dep5Licence(dep5, "it-g722"), { licence: "CC-BY-3.0", copyright: "2010 D" });
  assert.deepEqual(dep5Licence(dep5, "fr-g722"), { licence: "CC-BY-SA-3.0", copyright: "2006 B C" });
  assert.deepEqual(dep5Licence(dep5, "en"), { licence: "CC-BY-SA-3.0", copyright: "2003 A" });
});

// Computed with the code from before the augmenter (speed 0.9/1.0/1.1, sox reverb, coloured noise):
// dev, tst-COMMON and tst-HELDOUT are never augmented, so their plans must not move; nor must the
// training plans of --no-augment (the augmentation draws from its own stream).
const pinned = {
  heldAndTest: "8d9d8b210e430bab45dc41329e89e0a502240675b6a856d84bbb560a31107113",
  noAugmentTrain: "8353f6b14ceca9b0863067eeb0fe777ae20b535e3ed82b03cacd3f6f85ff4b5f",
};

test("dev/test talk plans (and --no-augment train plans) are those of before the augmenter, whatever the kinds and kit", () => {
  const entries: CorpusEntry[] = [
    ...Array.from({ length: 300 }, (_, i) => ({ id: i, split: "train" as const, en: `Train sentence number ${i} is long enough to speak.`, tgt: `Frase ${i}.` })),
    ...Array.from({ length: 40 }, (_, i) => ({ id: 300 + i, split: "dev" as const, en: `Dev sentence ${i} is here for you.`, tgt: `Dev ${i}.` })),
    ...Array.from({ length: 40 }, (_, i) => ({ id: 340 + i, split: "tst-COMMON" as const, en: `Test sentence ${i} is here for us.`, tgt: `Test ${i}.` })),
  ];
  const digest = (x: unknown) => createHash("sha256").update(JSON.stringify(x)).digest("hex");
  const catalog = { rir: [{ file: "rir/a.wav", seconds: 1 }], noise: [{ file: "noise/a.wav", seconds: 9 }] };
  for (const [augment, kinds, cat] of [[true, undefined, undefined], [true, augmentKinds, catalog], [true, parseAugmentKinds("reverb,codec"), undefined], [false, undefined, undefined]] as const) {
    const talks = planTalks(entries, { seed: 11, hours: 0.5, engines: ["espeak", "festival", "flite"], holdout: ["festival"], augment, kinds, catalog: cat });
    const held = talks.filter((t) => t.split !== "train");
    assert.equal(held.length, 16);
    assert.equal(digest(held), pinned.heldAndTest);
    for (const t of held) assert.deepEqual(t.aug, { speed: 1 });
    const train = talks.filter((t) => t.split === "train");
    if (!augment) assert.equal(digest(train), pinned.noAugmentTrain);
    else assert.ok(train.some((t) => t.aug.reverb || t.aug.additive || t.aug.channel), "no augmented train talk");
  }
});
