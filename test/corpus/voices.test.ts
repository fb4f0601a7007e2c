// Speakers of every engine, and how often each engine is drawn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/corpus/rng.ts";
import {
  type Engine, type Speaker, drawEngine, drawSpeaker, engineWeights, engines, espeakVariants, espeakVoices, festivalVoices,
  festvoxVoices, fliteVoices, mbrolaVoices, parseEngines, picoVoices, rhvoiceVoices, testEngines, voicePackages,
} from "../../src/corpus/voices.ts";

const voicesOf: Record<Engine, string[]> = {
  espeak: espeakVoices, festival: festivalVoices, flite: fliteVoices, mbrola: mbrolaVoices,
  rhvoice: rhvoiceVoices, pico: picoVoices, festvox: festvoxVoices,
};

const int = (x: number | undefined, lo: number, hi: number) => x !== undefined && Number.isInteger(x) && x >= lo && x <= hi;

function checkSpeaker(s: Speaker): void {
  const where = JSON.stringify(s);
  assert.ok(voicesOf[s.engine].includes(s.voice), where);
  switch (s.engine) {
    case "espeak":
      assert.ok(espeakVariants.includes(s.variant!) && int(s.rate, 130, 190) && int(s.pitch, 30, 70), where);
      assert.deepEqual(Object.keys(s), ["id", "engine", "voice", "variant", "rate", "pitch"]);
      break;
    case "mbrola":
      assert.ok(int(s.rate, 130, 190) && int(s.pitch, 30, 70), where);
      assert.deepEqual(Object.keys(s), ["id", "engine", "voice", "rate", "pitch"]);
      break;
    case "rhvoice":
      assert.ok(int(s.rate, 85, 115) && int(s.pitch, 89, 112), where);
      assert.deepEqual(Object.keys(s), ["id", "engine", "voice", "rate", "pitch"]);
      break;
    default:
      assert.ok(s.tempo! >= 0.85 && s.tempo! <= 1.15 && Math.abs(s.tempo! * 100 - Math.round(s.tempo! * 100)) < 1e-9 && int(s.cents, -200, 200), where);
      assert.deepEqual(Object.keys(s), ["id", "engine", "voice", "tempo", "cents"]);
  }
}

test("drawSpeaker gives a valid speaker of every engine, and every voice comes up", () => {
  for (const engine of engines) {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const s = drawSpeaker(`spk.${i}`, engine, Rng.derive(11, "voices-test", engine, i));
      assert.equal(s.engine, engine);
      assert.equal(s.id, `spk.${i}`);
      checkSpeaker(s);
      seen.add(s.voice);
    }
    assert.deepEqual([...seen].sort(), [...voicesOf[engine]].sort(), engine);
  }
  // Only the LGPL RHVoice voices: the CC-BY-NC-ND ones ship in the same package.
  assert.ok(!rhvoiceVoices.some((v) => /evgeniy|lyubov/.test(v)));
});

test("drawEngine follows engineWeights among the engines available", () => {
  const pool = engines.filter((e) => e !== "festival");
  const counts = new Map<Engine, number>();
  const n = 28000;
  const rng = new Rng(5);
  for (let i = 0; i < n; i++) {
    const e = drawEngine(pool, rng);
    counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  const total = pool.reduce((s, e) => s + engineWeights[e], 0);
  for (const e of pool) {
    const expected = (n * engineWeights[e]) / total;
    assert.ok(Math.abs(counts.get(e)! - expected) < 0.06 * expected + 60, `${e}: ${counts.get(e)} vs ${expected}`);
  }
  assert.equal(counts.get("festival"), undefined);
  // The human-like engines speak most training talks, MBROLA the most of all.
  assert.ok(engineWeights.mbrola > Math.max(...pool.filter((e) => e !== "mbrola").map((e) => engineWeights[e])));
  assert.ok(engineWeights.mbrola + engineWeights.rhvoice + engineWeights.pico > total / 2);
  // The original three keep 3:1:1 (dev and test are drawn from them alone).
  assert.deepEqual(testEngines.map((e) => engineWeights[e]), [3, 1, 1]);
});

test("parseEngines knows the new engines; voicePackages names each voice's Debian package", () => {
  assert.deepEqual(parseEngines("mbrola, rhvoice,pico,festvox,mbrola", "--engines"), ["mbrola", "rhvoice", "pico", "festvox"]);
  assert.throws(() => parseEngines("espeak,rhvoices", "--engines"), /unknown engine 'rhvoices' \(known: espeak, festival, flite, mbrola, rhvoice, pico, festvox\)/);
  const rng = new Rng(1);
  assert.match(voicePackages({ ...drawSpeaker("s", "mbrola", rng), voice: "us3" }), /\bmbrola-us3\b/);
  assert.match(voicePackages({ ...drawSpeaker("s", "festvox", rng), voice: "don_diphone" }), /\bfestvox-don\b/);
  assert.match(voicePackages(drawSpeaker("s", "rhvoice", rng)), /\brhvoice-english\b/);
  assert.match(voicePackages(drawSpeaker("s", "pico", rng)), /\blibttspico-utils\b/);
});
