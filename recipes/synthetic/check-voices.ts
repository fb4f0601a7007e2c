// gpu-corpus.sh check: every voice of every engine speaks a sentence from a prefix alone, through the
// code the corpus runs (engines.ts, effects.ts, tools.ts's prefixTools), and the codecs (lame,
// opusenc, opusdec) run from it. `node --import tsx recipes/synthetic/check-voices.ts PREFIX`
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeSentences } from "../../src/corpus/engines.ts";
import { sampleRate, toSpeech16k, wavBytes } from "../../src/corpus/effects.ts";
import { runProcess } from "../../src/corpus/process.ts";
import { prefixTools } from "../../src/corpus/tools.ts";
import {
  type Engine, type Speaker, engines, espeakVoices, festivalVoices, festvoxVoices, fliteVoices, mbrolaVoices, picoVoices, rhvoiceVoices,
} from "../../src/corpus/voices.ts";

const prefix = process.argv[2];
if (!prefix) throw new Error("usage: check-voices.ts PREFIX");
const tools = prefixTools(prefix);
const dir = mkdtempSync(join(tmpdir(), "nast-check-voices-"));
const text = '- "Quoted" words, said from the prefix alone.';

const neutral = (engine: Engine, voice: string): Speaker => {
  switch (engine) {
    case "espeak":
      return { id: "check", engine, voice, variant: "m3", rate: 160, pitch: 50 };
    case "mbrola":
      return { id: "check", engine, voice, rate: 160, pitch: 50 };
    case "rhvoice":
      return { id: "check", engine, voice, rate: 100, pitch: 100 };
    default:
      return { id: "check", engine, voice, tempo: 1, cents: 0 };
  }
};
const voicesOf: Record<Engine, string[]> = {
  espeak: espeakVoices, festival: festivalVoices, flite: fliteVoices, mbrola: mbrolaVoices,
  rhvoice: rhvoiceVoices, pico: picoVoices, festvox: festvoxVoices,
};

let failed = 0;
try {
  for (const engine of engines) {
    const done: string[] = [];
    for (const voice of voicesOf[engine]) {
      const speaker = neutral(engine, voice);
      try {
        const [wav] = await synthesizeSentences(speaker, [text], mkdtempSync(join(dir, "v")), tools);
        const x = await toSpeech16k(wav!, speaker, { speed: 1 }, tools);
        let e = 0;
        for (const v of x) e += v * v;
        const seconds = x.length / sampleRate;
        if (seconds < 1.5 || Math.sqrt(e / x.length) < 0.01) throw new Error(`${seconds.toFixed(2)} s, rms ${Math.sqrt(e / x.length).toFixed(4)}: not speech`);
        done.push(`${voice} ${seconds.toFixed(1)} s`);
      } catch (err) {
        failed++;
        process.stderr.write(`check-voices: ${engine} ${voice}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    process.stdout.write(`check-voices: ${engine}: ${done.join(", ")}\n`);
  }
  // The codecs: a second of a tone through MP3 and Opus and back.
  const tone = new Float32Array(sampleRate);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
  const wav = join(dir, "tone.wav");
  writeFileSync(wav, wavBytes(tone));
  const out = (name: string) => join(dir, name);
  const steps: [string | undefined, string[], string][] = [
    [tools.lame, ["--quiet", wav, out("tone.mp3")], "tone.mp3"],
    [tools.lame, ["--quiet", "--decode", out("tone.mp3"), out("tone-mp3.wav")], "tone-mp3.wav"],
    [tools.opusenc, ["--quiet", wav, out("tone.opus")], "tone.opus"],
    [tools.opusdec, ["--quiet", "--rate", "16000", out("tone.opus"), out("tone-opus.wav")], "tone-opus.wav"],
  ];
  for (const [bin, args, made] of steps) {
    try {
      if (!bin) throw new Error("not in Tools");
      await runProcess(bin, args, "", tools.env);
      if (!existsSync(out(made)) || statSync(out(made)).size < 1000) throw new Error(`wrote no ${made}`);
    } catch (err) {
      failed++;
      process.stderr.write(`check-voices: ${bin ?? "codec"} ${args.join(" ")}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  process.stdout.write(`check-voices: codecs: lame (encode, decode), opusenc, opusdec ${failed === 0 ? "ran" : "checked"}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed > 0) {
  process.stderr.write(`check-voices: ${failed} failed\n`);
  process.exit(1);
}
