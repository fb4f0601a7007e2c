// gpu-corpus.sh check: every voice of every engine speaks a sentence from a prefix alone, through the
// code the corpus runs (engines.ts, effects.ts, tools.ts's prefixTools); the codecs (lame, opusenc,
// opusdec) and sox's format plugins (flac, gsm) run from it; and with an asset kit, every augmentation
// kind is applied once to real synthesized speech through augment.ts (a plan drawn with only that kind
// on, from the first seed that draws it: the codec kinds are drawn for only 20% of talks, so a few
// talks of the kit's own run rarely hold all of them).
// `node --import tsx recipes/synthetic/check-voices.ts PREFIX [ASSET_KIT]`
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssetKit } from "../../src/corpus/assets.ts";
import { type AugmentKind, type Augmentation, applyAugmentation, augmentKinds, describeAugmentation } from "../../src/corpus/augment.ts";
import { synthesizeSentences } from "../../src/corpus/engines.ts";
import { Rng } from "../../src/corpus/rng.ts";
import { drawAugmentation } from "../../src/corpus/talks.ts";
import { sampleRate, toSpeech16k, wavBytes } from "../../src/corpus/effects.ts";
import { runProcess } from "../../src/corpus/process.ts";
import { prefixTools } from "../../src/corpus/tools.ts";
import {
  type Engine, type Speaker, engines, espeakVoices, festivalVoices, festvoxVoices, fliteVoices, mbrolaVoices, picoVoices, rhvoiceVoices,
} from "../../src/corpus/voices.ts";

const prefix = process.argv[2];
const kitDir = process.argv[3];
if (!prefix) throw new Error("usage: check-voices.ts PREFIX [ASSET_KIT]");
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

/** Whether a drawn plan holds the kind. */
function holds(plan: Augmentation, kind: AugmentKind): boolean {
  switch (kind) {
    case "speed": return plan.speed !== 1;
    case "tempo": return plan.tempo !== undefined;
    case "pitch": return plan.pitch !== undefined;
    case "vtlp": return plan.vtlp !== undefined;
    case "rir": case "room": return plan.reverb?.type === kind;
    case "noise": case "colored": case "music": case "babble": return plan.additive?.some((a) => a.type === kind) ?? false;
    case "gain": return plan.gainDb !== undefined;
    case "clip": return plan.clip !== undefined;
    default: return plan.channel?.type === kind;
  }
}

let failed = 0;
let speech: Float32Array | undefined;
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
        speech ??= x;
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
    // sox's plugins (gpu-corpus.sh: the prefix's libsox finds them through a fixed folder that unpack links).
    [tools.sox, [wav, out("tone.flac")], "tone.flac"],
    [tools.sox, [out("tone.flac"), out("tone-flac.wav")], "tone-flac.wav"],
    [tools.sox, [wav, "-r", "8000", "-t", "gsm", out("tone.gsm")], "tone.gsm"],
    [tools.sox, ["-t", "gsm", "-r", "8000", "-c", "1", out("tone.gsm"), out("tone-gsm.wav")], "tone-gsm.wav"],
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
  process.stdout.write(`check-voices: codecs: lame (encode, decode), opusenc, opusdec, sox flac and gsm ${failed === 0 ? "ran" : "checked"}\n`);

  if (kitDir) {
    const kit = new AssetKit(kitDir);
    const done: string[] = [];
    for (const kind of augmentKinds) {
      try {
        let plan: Augmentation | undefined;
        for (let seed = 0; seed < 1000 && !plan; seed++) {
          const p = drawAugmentation(Rng.derive(seed, "check-voices", kind), [kind], kit.catalog);
          if (holds(p, kind)) plan = p;
        }
        if (!plan) throw new Error("no seed below 1000 draws it");
        const x = speech!;
        const y = await applyAugmentation(x, plan, kit, tools, Rng.derive(1, "noise", kind));
        let e = 0;
        let diff = 0;
        for (let i = 0; i < y.length; i++) {
          if (!Number.isFinite(y[i]!)) throw new Error(`sample ${i} is ${y[i]}`);
          e += y[i]! * y[i]!;
          if (i < x.length) diff = Math.max(diff, Math.abs(y[i]! - x[i]!));
        }
        const voice = kind === "speed" || kind === "tempo" || kind === "pitch";
        if (!voice && y.length !== x.length) throw new Error(`${y.length} samples from ${x.length}: the length must stay`);
        if (Math.sqrt(e / y.length) < 0.002 || diff === 0) throw new Error(`rms ${Math.sqrt(e / y.length)}, largest change ${diff}: not applied`);
        const cols = describeAugmentation(plan);
        done.push(`${kind} ${cols.filter((c, i) => c !== "" && !(i === 0 && c === "1")).join(" ")}`);
      } catch (err) {
        failed++;
        process.stderr.write(`check-voices: augmentation ${kind}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    process.stdout.write(`check-voices: augmentation (${done.length} of ${augmentKinds.length} kinds): ${done.join("; ")}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed > 0) {
  process.stderr.write(`check-voices: ${failed} failed\n`);
  process.exit(1);
}
