// The speakers of the synthetic corpus. One speaker per talk, as in MuST-C: an engine, one of its
// English voices, and per-speaker rate and pitch. Three Debian TTS engines, because a model trained on
// one engine's speech does not transfer to another (issue 7: BLEU 0.4 on an unheard engine against
// 25.8 on the training engine); one engine can be held out of training as a stand-in for real speech.
import { Rng } from "./rng.ts";

export const engines = ["espeak", "festival", "flite"] as const;
export type Engine = (typeof engines)[number];

/** Debian packages providing each engine and its voices (for error messages and recipes). */
export const enginePackages: Record<Engine, string> = {
  espeak: "espeak-ng",
  festival: "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
  flite: "flite",
};

// espeak-ng's English voices (`espeak-ng --voices=en`, without the mbrola ones, which need the
// non-free mbrola binary).
export const espeakVoices = ["en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"];

// espeak-ng voice variants (espeak-ng-data/voices/!v) that sound like a person speaking normally;
// whispering, croaking and robot variants are left out.
export const espeakVariants = [
  "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
  "Alex", "Andy", "annie", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward", "grandma",
  "grandpa", "iven", "john", "linda", "max", "michel", "norbert", "paul", "rob", "robert", "steph", "travis",
  "victor", "zac", "klatt", "klatt2", "klatt3", "klatt4", "Mr serious", "quincy", "shelby", "adam", "announcer",
];

// festival voices from Debian's festvox-* packages: two diphone voices (kal, ked) and one HTS voice (slt).
export const festivalVoices = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"];

// flite's built-in voices (`flite -lv`); "kal" (8 kHz) and "awb_time" (a talking clock) are left out.
export const fliteVoices = ["kal16", "awb", "rms", "slt"];

export interface Speaker {
  id: string;
  engine: Engine;
  voice: string;
  /** espeak-ng only: the voice variant (`-v voice+variant`). */
  variant?: string;
  /** espeak-ng: words per minute (-s) and pitch 0-99 (-p). */
  rate?: number;
  pitch?: number;
  /** festival/flite: tempo factor and pitch shift in cents applied by sox (they have no common flags). */
  tempo?: number;
  cents?: number;
}

/** Draws a speaker of `engine` (one of its voices, rate and pitch). */
export function drawSpeaker(id: string, engine: Engine, rng: Rng): Speaker {
  switch (engine) {
    case "espeak":
      return {
        id,
        engine,
        voice: rng.pick(espeakVoices),
        variant: rng.pick(espeakVariants),
        rate: rng.int(130, 190),
        pitch: rng.int(30, 70),
      };
    case "festival":
    case "flite":
      return {
        id,
        engine,
        voice: rng.pick(engine === "festival" ? festivalVoices : fliteVoices),
        tempo: Math.round(rng.uniform(0.85, 1.15) * 100) / 100,
        cents: rng.int(-200, 200),
      };
  }
}

/**
 * Picks an engine for a talk, espeak-ng 3 : festival 1 : flite 1. espeak-ng gets more talks because it
 * has far more voices (8 accents x 48 variants, rates, pitches) than the others (3 and 4 voices);
 * weighting by voice count instead would leave festival and flite almost unheard.
 */
export function drawEngine(available: readonly Engine[], rng: Rng): Engine {
  const weight: Record<Engine, number> = { espeak: 3, festival: 1, flite: 1 };
  const total = available.reduce((s, e) => s + weight[e], 0);
  let r = rng.next() * total;
  for (const e of available) {
    r -= weight[e];
    if (r < 0) return e;
  }
  return available[available.length - 1]!;
}

export function describeSpeaker(s: Speaker): string {
  if (s.engine === "espeak") return `espeak-ng ${s.voice}+${s.variant} rate ${s.rate} pitch ${s.pitch}`;
  return `${s.engine} ${s.voice} tempo ${s.tempo} pitch ${s.cents} cents`;
}

export function parseEngines(list: string, flag: string): Engine[] {
  const out: Engine[] = [];
  for (const name of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(engines as readonly string[]).includes(name)) throw new Error(`${flag}: unknown engine '${name}' (known: ${engines.join(", ")})`);
    if (!out.includes(name as Engine)) out.push(name as Engine);
  }
  return out;
}
