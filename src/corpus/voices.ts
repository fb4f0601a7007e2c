// The speakers of the synthetic corpus. One speaker per talk, as in MuST-C: an engine, one of its
// English voices, and per-speaker rate and pitch. Several Debian TTS engines, because a model trained on
// one engine's speech does not transfer to another (a model trained on one engine scored BLEU 0.4
// on an unheard engine, against 25.8 on its own); one engine can be held out of training as a stand-in for real speech.
//
// The first three engines (espeak-ng, festival's kal/ked/slt, flite) are the ones the shipped model's
// synthetic dev and test sets are spoken by; those sets stay exactly as they were (talks.ts). The others
// are voices made from human recordings, for training only: MBROLA's diphone databases (through
// espeak-ng), RHVoice's statistical parametric (HTS) voices, SVOX Pico, and festival's British diphone
// voices rab and don.
import { Rng } from "./rng.ts";

export const engines = ["espeak", "festival", "flite", "mbrola", "rhvoice", "pico", "festvox"] as const;
export type Engine = (typeof engines)[number];

/**
 * The engines that dev, tst-COMMON (and, held out, tst-HELDOUT) were drawn from before the other
 * engines existed: those splits keep drawing from these alone, with the same weights, so that they stay
 * byte-identical for a seed (they are the test sets the shipped model is compared on).
 */
export const testEngines: readonly Engine[] = ["espeak", "festival", "flite"];

/**
 * Debian packages providing each engine and its voices (for error messages and recipes). mbrola is in
 * Debian's contrib component, its voices, RHVoice's and Pico's in non-free (scripts/apt-components.sh).
 */
export const enginePackages: Record<Engine, string> = {
  espeak: "espeak-ng",
  festival: "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
  flite: "flite",
  mbrola: "espeak-ng mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1",
  rhvoice: "rhvoice rhvoice-english",
  pico: "libttspico-utils libttspico-data",
  festvox: "festival festlex-cmu festvox-rablpc16k festvox-don",
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

// MBROLA's English diphone databases, spoken through espeak-ng (`espeak-ng -v mb-us1`: espeak-ng makes
// the phonemes and prosody, the mbrola program joins diphones cut from recordings of a person): us1
// (American female), us2 and us3 (American male), en1 (British male; the "Roger" recordings). 16 kHz.
export const mbrolaVoices = ["us1", "us2", "us3", "en1"];

// RHVoice's English voices under LGPL-2.1+ (the package's copyright file: "Files: data/*"): alan
// (Scottish male), bdl (American male), clb and slt (American female; HTS models of the CMU ARCTIC
// recordings). evgeniy-eng and lyubov, in the same package, are CC-BY-NC-ND-4.0 and never used.
export const rhvoiceVoices = ["alan", "bdl", "clb", "slt"];

// SVOX Pico's English languages (pico2wave -l), one female voice each. 16 kHz.
export const picoVoices = ["en-US", "en-GB"];

// festival's British diphone voices from festvox-rablpc16k (16 kHz) and festvox-don (10 kHz); engines.ts
// gives them the CMU lexicon instead of the non-commercial OALD one they are set up with.
export const festvoxVoices = ["rab_diphone", "don_diphone"];

export interface Speaker {
  id: string;
  engine: Engine;
  voice: string;
  /** espeak-ng only: the voice variant (`-v voice+variant`). */
  variant?: string;
  /**
   * The engine's own rate and pitch flags. espeak-ng and mbrola (through espeak-ng): words per minute
   * (-s) and pitch 0-99 (-p). RHVoice: percent of the voice's rate (-r) and of its pitch (-t).
   */
  rate?: number;
  pitch?: number;
  /** festival/flite/pico/festvox: tempo factor and pitch shift in cents applied by sox (they have no such flags). */
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
    case "pico":
    case "festvox":
      // No rate or pitch flags in common: sox's tempo and pitch give each speaker its own.
      return {
        id,
        engine,
        voice: rng.pick({ festival: festivalVoices, flite: fliteVoices, pico: picoVoices, festvox: festvoxVoices }[engine]),
        tempo: Math.round(rng.uniform(0.85, 1.15) * 100) / 100,
        cents: rng.int(-200, 200),
      };
    case "mbrola":
      // espeak-ng's variants change its own formant voice, not an MBROLA database: no variant.
      return { id, engine, voice: rng.pick(mbrolaVoices), rate: rng.int(130, 190), pitch: rng.int(30, 70) };
    case "rhvoice":
      // Both scale the voice's own: rate 85-115% as sox's tempo does for festival/flite, pitch 89-112%
      // (about the same ±200 cents).
      return { id, engine, voice: rng.pick(rhvoiceVoices), rate: rng.int(85, 115), pitch: rng.int(89, 112) };
  }
}

/**
 * How often each engine speaks a talk, relative to the others available. espeak-ng 3 : festival 1 :
 * flite 1 as before the other engines existed (so dev and test, drawn from those three, are unchanged).
 * espeak-ng gets more talks than festival and flite because it has far more voices (8 accents x 48
 * variants, rates, pitches) than they do (3 and 4 voices).
 *
 * The voices made from human recordings get most of the training talks: MBROLA 4 (its diphones are cut
 * from real recordings, and a model trained on the first three engines finds it as hard as a real voice,
 * so it teaches the most), RHVoice 3 (HMM voices trained on four real speakers), Pico 2 (two voices),
 * festival's rab/don 1 (LPC diphones, don at 10 kHz). With every engine in training except festival
 * (held out), espeak-ng speaks 3/14 of the training talks, flite 1/14, MBROLA 4/14, RHVoice 3/14, Pico
 * 2/14, rab/don 1/14: 9/14 (64%) from recorded human voices.
 */
export const engineWeights: Readonly<Record<Engine, number>> = { espeak: 3, festival: 1, flite: 1, mbrola: 4, rhvoice: 3, pico: 2, festvox: 1 };

/** Picks an engine for a talk among `available`, by engineWeights. */
export function drawEngine(available: readonly Engine[], rng: Rng): Engine {
  const weight = engineWeights;
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
  if (s.engine === "mbrola") return `mbrola ${s.voice} (espeak-ng mb-${s.voice}) rate ${s.rate} pitch ${s.pitch}`;
  if (s.engine === "rhvoice") return `rhvoice ${s.voice} rate ${s.rate}% pitch ${s.pitch}%`;
  return `${s.engine} ${s.voice} tempo ${s.tempo} pitch ${s.cents} cents`;
}

/** The Debian packages one speaker's voice needs (named in errors when it makes no audio). */
export function voicePackages(s: Speaker): string {
  switch (s.engine) {
    case "mbrola":
      return `espeak-ng mbrola mbrola-${s.voice}`;
    case "festvox":
      return `festival festlex-cmu ${s.voice === "don_diphone" ? "festvox-don" : "festvox-rablpc16k"}`;
    default:
      return enginePackages[s.engine];
  }
}

export function parseEngines(list: string, flag: string): Engine[] {
  const out: Engine[] = [];
  for (const name of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(engines as readonly string[]).includes(name)) throw new Error(`${flag}: unknown engine '${name}' (known: ${engines.join(", ")})`);
    if (!out.includes(name as Engine)) out.push(name as Engine);
  }
  return out;
}
