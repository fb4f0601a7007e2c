// The TTS engines and the sox/noise chain, on real engine output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeSentences } from "../../src/corpus/engines.ts";
import { toSpeech16k, soxEffects } from "../../src/corpus/effects.ts";
import { addNoise, power } from "../../src/corpus/noise.ts";
import { systemTools } from "../../src/corpus/tools.ts";
import { Rng } from "../../src/corpus/rng.ts";
import type { Speaker } from "../../src/corpus/voices.ts";
import { rms } from "./helpers.ts";

const work = mkdtempSync(join(tmpdir(), "nast-corpus-audio-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const tools = systemTools();

const speakers: Speaker[] = [
  { id: "spk.1", engine: "espeak", voice: "en-gb-x-rp", variant: "f3", rate: 175, pitch: 50 },
  { id: "spk.2", engine: "festival", voice: "kal_diphone", tempo: 1, cents: 0 },
  { id: "spk.3", engine: "festival", voice: "cmu_us_slt_arctic_hts", tempo: 1, cents: 0 },
  { id: "spk.4", engine: "flite", voice: "slt", tempo: 1, cents: 0 },
];

for (const sp of speakers) {
  test(`${sp.engine} ${sp.voice}: speech at 16 kHz, speed perturbation scales its length`, async () => {
    const dir = mkdtempSync(join(work, "e"));
    const [wav] = await synthesizeSentences(sp, ['-- "Quoted" text, starting with dashes; the cat sat on the mat.'], dir, tools);
    const plain = await toSpeech16k(wav!, sp, { speed: 1 }, tools);
    const fast = await toSpeech16k(wav!, sp, { speed: 1.1 }, tools);
    const seconds = plain.length / 16000;
    assert.ok(seconds > 2 && seconds < 8, `${seconds} s`);
    assert.ok(rms(plain) > 0.02, `rms ${rms(plain)}`);
    assert.ok(Math.abs(fast.length * 1.1 - plain.length) < 200, `speed 1.1: ${fast.length} vs ${plain.length}`);
  });
}

test("sox chain: tempo/pitch only for festival/flite speakers, merged with the talk's tempo/pitch augmentation", () => {
  assert.deepEqual(soxEffects(speakers[0]!, { speed: 1 }), ["rate", "-v", "16000"]);
  assert.deepEqual(soxEffects({ ...speakers[3]!, tempo: 0.9, cents: -120 }, { speed: 0.9 }), ["tempo", "-s", "0.9", "pitch", "-120", "speed", "0.9", "rate", "-v", "16000"]);
  assert.deepEqual(soxEffects({ ...speakers[3]!, tempo: 0.9, cents: -120 }, { speed: 1.1, tempo: 1.05, pitch: 30 }), [
    "tempo", "-s", "0.945", "pitch", "-90", "speed", "1.1", "rate", "-v", "16000",
  ]);
  assert.deepEqual(soxEffects(speakers[0]!, { speed: 1, tempo: 0.95, pitch: -50 }), ["tempo", "-s", "0.95", "pitch", "-50", "rate", "-v", "16000"]);
});

test("additive noise lands at the requested SNR for each colour", () => {
  const x = new Float32Array(32000);
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000);
  const speech = power(x);
  for (const color of ["white", "pink", "brown"] as const) {
    const y = Float32Array.from(x);
    addNoise(y, speech, 15, color, new Rng(5));
    const noise = y.map((v, i) => v - x[i]!);
    const snr = 10 * Math.log10(speech / power(noise));
    assert.ok(Math.abs(snr - 15) < 0.01, `${color}: ${snr} dB`);
  }
});
