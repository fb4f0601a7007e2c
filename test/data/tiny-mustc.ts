// A tiny MuST-C-layout corpus for the data tests, spoken by espeak-ng (Debian package espeak-ng):
// per split, talks of a few sentences joined with pauses into one 16 kHz 16-bit wav, the YAML segment
// list (v1 format, 6 decimals), and English/Spanish text files. Talk 1 of train also holds a 30 ms
// segment (< 5 frames) and a segment with an empty translation, which prep must filter out.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAudio } from "../../src/audio/decode.ts";
import { pcm16Wav } from "../helpers/wav.ts";

const RATE = 16000;
const GAP_SECONDS = 0.4;

export interface TinySegment {
  en: string;
  es: string;
  /** Override the spoken duration (e.g. 0.03 s for a too-short segment). */
  duration?: number;
}

export const TINY_TALKS: Record<string, Record<string, TinySegment[]>> = {
  train: {
    ted_1: [
      { en: "The weather is nice today.", es: "El tiempo es agradable hoy." },
      { en: "I like to read books in the evening.", es: "Me gusta leer libros por la tarde." },
      { en: "Short.", es: "Corto.", duration: 0.03 },
      { en: "This sentence has no translation.", es: "" },
      { en: "We walked to the old market.", es: "Caminamos al viejo mercado." },
    ],
    ted_2: [
      { en: "Music makes people happy.", es: "La música hace feliz a la gente." },
      { en: "The children play in the park.", es: "Los niños juegan en el parque." },
    ],
  },
  dev: {
    ted_3: [{ en: "The house is very big.", es: "La casa es muy grande." }],
    ted_4: [
      { en: "She drinks coffee every morning.", es: "Ella bebe café cada mañana." },
      { en: "Thank you very much.", es: "Muchas gracias." },
    ],
  },
};

async function speak(text: string, scratch: string): Promise<Float32Array> {
  const path = join(scratch, "say.wav");
  execFileSync("espeak-ng", ["-v", "en", "-w", path, text]);
  return (await decodeAudio(path, { sampleRate: RATE })).samples;
}

/** Writes the corpus under a new temporary root; returns the root (ROOT/en-es/data/<split>/...). */
export async function makeTinyMustc(talks = TINY_TALKS): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "nast-tiny-mustc-"));
  const scratch = join(root, "scratch");
  mkdirSync(scratch);
  for (const [split, byTalk] of Object.entries(talks)) {
    const dir = join(root, "en-es", "data", split);
    mkdirSync(join(dir, "wav"), { recursive: true });
    mkdirSync(join(dir, "txt"), { recursive: true });
    const yaml: string[] = [];
    const en: string[] = [];
    const es: string[] = [];
    for (const [talk, segments] of Object.entries(byTalk)) {
      const parts: Float32Array[] = [];
      let t = GAP_SECONDS;
      parts.push(new Float32Array(GAP_SECONDS * RATE));
      for (const seg of segments) {
        const speech = await speak(seg.en, scratch);
        const duration = seg.duration ?? speech.length / RATE;
        yaml.push(`- {duration: ${duration.toFixed(6)}, offset: ${t.toFixed(6)}, rW: 0, uW: 0, speaker_id: spk.${talk}, wav: ${talk}.wav}`);
        en.push(seg.en);
        es.push(seg.es);
        parts.push(speech, new Float32Array(GAP_SECONDS * RATE));
        t += speech.length / RATE + GAP_SECONDS;
      }
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      writeFileSync(join(dir, "wav", `${talk}.wav`), pcm16Wav(all, RATE));
    }
    writeFileSync(join(dir, "txt", `${split}.yaml`), yaml.join("\n") + "\n");
    writeFileSync(join(dir, "txt", `${split}.en`), en.join("\n") + "\n");
    writeFileSync(join(dir, "txt", `${split}.es`), es.join("\n") + "\n");
  }
  rmSync(scratch, { recursive: true, force: true });
  return root;
}
