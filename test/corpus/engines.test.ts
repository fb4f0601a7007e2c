// The engines made from human recordings (MBROLA, RHVoice, Pico, festival's rab/don), on their real
// output: text that starts with "-" or holds quotes is read as text, every voice gives speech that
// effects.ts brings to 16 kHz, the speaker's rate flags act, and a missing package is named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeSentences } from "../../src/corpus/engines.ts";
import { toSpeech16k } from "../../src/corpus/effects.ts";
import { systemTools } from "../../src/corpus/tools.ts";
import { type Speaker, festvoxVoices, mbrolaVoices, picoVoices, rhvoiceVoices } from "../../src/corpus/voices.ts";
import { rms } from "./helpers.ts";

const work = mkdtempSync(join(tmpdir(), "nast-corpus-engines-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const tools = systemTools();

const texts = [
  "-v is not an option here, and neither is --help; the cat sat on the mat.",
  'He said "quoted words" and \'single ones\', then left it at that.',
];

/** The sample rate in a WAV file's fmt chunk (the engines write plain RIFF WAV). */
function wavRate(path: string): number {
  const b = readFileSync(path);
  assert.equal(b.toString("ascii", 0, 4), "RIFF", path);
  for (let p = 12; p + 8 <= b.length; p += 8 + b.readUInt32LE(p + 4)) {
    if (b.toString("ascii", p, p + 4) === "fmt ") return b.readUInt32LE(p + 12);
  }
  throw new Error(`${path}: no fmt chunk`);
}

const wavSeconds = (path: string) => {
  const b = readFileSync(path);
  for (let p = 12; p + 8 <= b.length; p += 8 + b.readUInt32LE(p + 4)) {
    if (b.toString("ascii", p, p + 4) === "data") return Math.min(b.readUInt32LE(p + 4), b.length - p - 8) / 2 / wavRate(path);
  }
  throw new Error(`${path}: no data chunk`);
};

// Each voice with its native rate (engines.ts's header lists them) and neutral rate/pitch.
const cases: { speaker: Speaker; rate: number }[] = [
  ...mbrolaVoices.map((voice) => ({ speaker: { id: "s", engine: "mbrola", voice, rate: 160, pitch: 50 } as Speaker, rate: 16000 })),
  ...rhvoiceVoices.map((voice) => ({ speaker: { id: "s", engine: "rhvoice", voice, rate: 100, pitch: 100 } as Speaker, rate: 16000 })),
  ...picoVoices.map((voice) => ({ speaker: { id: "s", engine: "pico", voice, tempo: 1, cents: 0 } as Speaker, rate: 16000 })),
  ...festvoxVoices.map((voice) => ({ speaker: { id: "s", engine: "festvox", voice, tempo: 1, cents: 0 } as Speaker, rate: voice === "don_diphone" ? 10000 : 16000 })),
];

for (const { speaker, rate } of cases) {
  test(`${speaker.engine} ${speaker.voice}: text starting with "-" and with quotes is spoken, at 16 kHz after sox`, async () => {
    const wavs = await synthesizeSentences(speaker, texts, mkdtempSync(join(work, "e")), tools);
    assert.equal(wavs.length, texts.length);
    for (const [i, wav] of wavs.entries()) {
      assert.equal(wavRate(wav), rate, `${wav}: the engine's own rate`);
      const x = await toSpeech16k(wav, speaker, { speed: 1 }, tools);
      const seconds = x.length / 16000;
      // ~14 words each: spoken, not an option's usage message or a few phonemes.
      assert.ok(seconds > 2.2 && seconds < 9, `sentence ${i}: ${seconds} s`);
      assert.ok(Math.abs(seconds - wavSeconds(wav)) < 0.01, `sentence ${i}: ${seconds} s at 16 kHz vs ${wavSeconds(wav)} s from the engine`);
      assert.ok(rms(x) > 0.02, `sentence ${i}: rms ${rms(x)}`);
    }
  });
}

// The CMU letter-to-sound rules give "rbi", "rurality", "rlogin" and "RBLing" a syllable without a vowel,
// on which festival crashed (SIGSEGV) with rab's and don's mrpa phones, taking the talk with it
// (engines.ts gives such syllables to their neighbours). These are training sentences that crashed it.
for (const voice of festvoxVoices) {
  test(`festvox ${voice}: words whose letter-to-sound syllables have no vowel are spoken, not a crash`, async () => {
    const speaker: Speaker = { id: "s", engine: "festvox", voice, tempo: 1, cents: 0 };
    const crashed = ["He had more than 100 rbi last season.", "A place with the rurality of a turnip field.",
      "There may be telnet, rlogin, and ftp, but these don't access any hosts."];
    const wavs = await synthesizeSentences(speaker, crashed, mkdtempSync(join(work, "v")), tools);
    for (const [i, wav] of wavs.entries()) {
      const x = await toSpeech16k(wav, speaker, { speed: 1 }, tools);
      assert.ok(x.length / 16000 > 1.5 && rms(x) > 0.02, `sentence ${i}: ${x.length / 16000} s, rms ${rms(x)}`);
    }
  });
}

test("the engines' own rate flags act (MBROLA through espeak-ng's -s, RHVoice's -r), and RHVoice's -t changes the voice", async () => {
  const long = async (s: Speaker) => (await toSpeech16k((await synthesizeSentences(s, [texts[0]!], mkdtempSync(join(work, "r")), tools))[0]!, s, { speed: 1 }, tools));
  const mSlow = await long({ id: "s", engine: "mbrola", voice: "us2", rate: 130, pitch: 50 });
  const mFast = await long({ id: "s", engine: "mbrola", voice: "us2", rate: 190, pitch: 50 });
  assert.ok(mSlow.length > mFast.length * 1.2, `mbrola ${mSlow.length} vs ${mFast.length}`);
  const rSlow = await long({ id: "s", engine: "rhvoice", voice: "bdl", rate: 85, pitch: 100 });
  const rFast = await long({ id: "s", engine: "rhvoice", voice: "bdl", rate: 115, pitch: 100 });
  assert.ok(Math.abs(rSlow.length / rFast.length - 115 / 85) < 0.05, `rhvoice ${rSlow.length} vs ${rFast.length}`);
  const rLow = await long({ id: "s", engine: "rhvoice", voice: "bdl", rate: 115, pitch: 89 });
  assert.ok(Math.abs(rLow.length - rFast.length) < 0.03 * rFast.length, `pitch 89%: ${rLow.length} vs ${rFast.length}`);
  assert.ok(rLow.some((v, i) => Math.abs(v - rFast[i]!) > 0.01), "pitch 89% gave the same audio as 100%");
});

test("a missing engine or voice is an error naming its Debian package", async () => {
  const missing = join(work, "nowhere");
  const run = (s: Speaker, t: typeof tools) => synthesizeSentences(s, ["A sentence."], mkdtempSync(join(work, "m")), t);
  await assert.rejects(run({ id: "s", engine: "mbrola", voice: "us3", rate: 160, pitch: 50 }, { ...tools, espeak: join(missing, "espeak-ng") }),
    /mbrola voice us3: .*espeak-ng not found.*\(Debian packages: espeak-ng mbrola mbrola-us3\)/);
  await assert.rejects(run({ id: "s", engine: "rhvoice", voice: "clb", rate: 100, pitch: 100 }, { ...tools, rhvoice: join(missing, "RHVoice-test") }),
    /rhvoice voice clb: .*RHVoice-test not found.*\(Debian packages: rhvoice rhvoice-english\)/);
  // RHVoice-test would speak another voice: the voice's folder is checked first.
  await assert.rejects(run({ id: "s", engine: "rhvoice", voice: "clb", rate: 100, pitch: 100 }, { ...tools, rhvoiceData: missing }),
    /rhvoice voice clb: the voice is not installed \(no .*nowhere\/voices\/clb\/voice\.info\) \(Debian packages: rhvoice rhvoice-english\)/);
  await assert.rejects(run({ id: "s", engine: "pico", voice: "en-GB", tempo: 1, cents: 0 }, { ...tools, pico: join(missing, "pico2wave") }),
    /pico voice en-GB: .*pico2wave not found.*\(Debian packages: libttspico-utils libttspico-data\)/);
  await assert.rejects(run({ id: "s", engine: "festvox", voice: "nosuch_diphone", tempo: 1, cents: 0 }, tools),
    /festvox voice nosuch_diphone: .*unbound variable : voice_nosuch_diphone.*\(Debian packages: festival festlex-cmu festvox-rablpc16k\)/s);
});
