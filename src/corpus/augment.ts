// Acoustic augmentation of a talk: the plan types (drawn per talk by talks.ts's drawAugmentation) and
// the augmenter that applies a plan to float samples. Usable for any corpus:
//
//   const plan = drawAugmentation(rng, parseAugmentKinds("all"), kit?.catalog);
//   const y = await applyAugmentation(x, plan, kit, tools, noiseRng, { speech: [[a, b], ...] });
//
// The chain follows the path of sound to a recording: the speaker (speed, tempo, pitch: sox, changing
// durations; VTLP: formant warp, duration kept), the room (a real impulse response or a simulated
// shoebox), other sources in the room (recorded noise, music, babble, coloured noise) at an SNR against
// the speech, the recorder (gain, clipping) and the channel (telephone band, G.711, GSM, MP3, Opus).
// Reverberation is aligned on the direct path and every stage after the speaker keeps the length, so
// segment times stay valid. An augmented talk is a pure function of (plan, kit, rng): the plan
// holds every choice (files, offsets, rooms, SNRs, bit rates), the rng only draws coloured noise.
import { addNoise, type NoiseColor } from "./noise.ts";
import { convolveAligned, meanPower } from "./dsp.ts";
import { ROOM_PAD, type RoomPlan, roomImpulseResponse } from "./rooms.ts";
import { vtlp } from "./vtlp.ts";
import { g711RoundTrip, gsmRoundTrip, mp3RoundTrip, narrowband, opusRoundTrip, telephoneBand } from "./codecs.ts";
import { runProcessBytes } from "./process.ts";
import type { Rng } from "./rng.ts";
import type { Tools } from "./tools.ts";

/** Each kind can be switched on and off on its own (`nast corpus synth --augment LIST`). */
export const augmentKinds = [
  "speed", "tempo", "pitch", "vtlp",
  "rir", "room",
  "noise", "colored", "music", "babble",
  "gain", "clip",
  "telephone", "g711", "gsm", "mp3", "opus",
] as const;
export type AugmentKind = (typeof augmentKinds)[number];

/** Names for several kinds at once. */
export const augmentGroups: Record<string, readonly AugmentKind[]> = {
  all: augmentKinds,
  none: [],
  voice: ["speed", "tempo", "pitch", "vtlp"],
  reverb: ["rir", "room"],
  additive: ["noise", "colored", "music", "babble"],
  level: ["gain", "clip"],
  codec: ["telephone", "g711", "gsm", "mp3", "opus"],
};

/** The kinds that need the asset kit (`nast corpus assets`), and what stands in for them without it. */
export const assetKinds = { rir: "room", noise: "colored", music: "colored", babble: "colored" } as const;

export function parseAugmentKinds(list: string, flag = "--augment"): AugmentKind[] {
  const out = new Set<AugmentKind>();
  for (const name of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const group = augmentGroups[name];
    if (group) group.forEach((k) => out.add(k));
    else if ((augmentKinds as readonly string[]).includes(name)) out.add(name as AugmentKind);
    else throw new Error(`${flag}: unknown augmentation '${name}' (kinds: ${augmentKinds.join(", ")}; groups: ${Object.keys(augmentGroups).join(", ")})`);
  }
  return augmentKinds.filter((k) => out.has(k));
}

export type Reverb = { type: "rir"; file: string } | ({ type: "room"; seconds: number } & RoomPlan);

export type Additive =
  | { type: "colored"; color: NoiseColor; snrDb: number }
  | { type: "noise" | "music" | "babble"; file: string; /** Where in the (looped) clip the talk starts, s. */ start: number; snrDb: number };

export type Channel =
  | { type: "telephone" }
  | { type: "g711"; law: "ulaw" | "alaw" }
  | { type: "gsm" }
  | { type: "mp3"; kbps: number }
  | { type: "opus"; kbps: number };

export interface Augmentation {
  /** Speed factor (changes tempo and pitch together, like resampling); 1 = none. */
  speed: number;
  /** sox tempo factor (duration only). */
  tempo?: number;
  /** sox pitch shift, cents. */
  pitch?: number;
  /** VTLP warp factor of the formants (0.9-1.1). */
  vtlp?: number;
  reverb?: Reverb;
  additive?: Additive[];
  /** Recorder gain, dB, then the recorder's full scale (hard limit at ±1). */
  gainDb?: number;
  /** Clipping at `level` × the talk's peak. */
  clip?: { type: "soft" | "hard"; level: number };
  channel?: Channel;
  /** Asset kinds that were drawn but stood in for (no kit): e.g. "rir->room". */
  fallback?: string[];
}

/** What the asset kit holds, for drawing plans: per kind, the files (relative to the kit) and their length. */
export type AssetCatalog = Partial<Record<keyof typeof assetKinds, readonly { file: string; seconds: number }[]>>;

/** An audio clip source for the real-asset kinds (the kit of `nast corpus assets`, see assets.ts). */
export interface AugmentAssets {
  /** 16 kHz mono samples of a kit file (a path relative to the kit, as in the plan). */
  audio(file: string): Promise<Float32Array>;
}

export interface ApplyOptions {
  /** Sample rate of the samples (default 16000). */
  rate?: number;
  /**
   * Sample ranges [start, end) where speech is, in the output's timeline: the SNRs are against the
   * mean power there. Without them, the power of the frames within 35 dB of the loudest is used.
   */
  speech?: readonly (readonly [number, number])[];
  /**
   * Apply speed/tempo/pitch too (default true; they change the duration by timeScale(plan)). The
   * synthetic corpus applies them per segment instead and passes false.
   */
  voice?: boolean;
}

/** Output duration / input duration of the voice stage. */
export function timeScale(plan: Augmentation): number {
  return 1 / (plan.speed * (plan.tempo ?? 1));
}

/**
 * sox effects of the voice stage (tempo, pitch, speed: they change durations), merged with a
 * speaker's own tempo and pitch (festival/flite speakers) so that sox runs one tempo and one pitch pass.
 */
export function voiceEffects(plan: Augmentation, speakerTempo = 1, speakerCents = 0): string[] {
  const fx: string[] = [];
  const tempo = plan.tempo === undefined ? speakerTempo : Math.round(speakerTempo * plan.tempo * 10000) / 10000;
  const cents = speakerCents + (plan.pitch ?? 0);
  if (tempo !== 1) fx.push("tempo", "-s", String(tempo));
  if (cents) fx.push("pitch", String(cents));
  if (plan.speed !== 1) fx.push("speed", String(plan.speed));
  return fx;
}

/**
 * Applies `plan` to mono float samples at `opts.rate` (16 kHz; the kit's clips are 16 kHz) and returns
 * new samples (or `samples` itself when the plan does nothing). `assets` serves the plan's kit files
 * (null when the plan has none: drawAugmentation without a catalog), `tools` the sox/lame/opus-tools
 * binaries, `rng` the coloured noise (derive it from the talk, as the plan is). Without the voice
 * stage (opts.voice false) the output has the input's length and timing.
 */
export async function applyAugmentation(
  samples: Float32Array,
  plan: Augmentation,
  assets: AugmentAssets | null,
  tools: Tools,
  rng: Rng,
  opts: ApplyOptions = {},
): Promise<Float32Array> {
  const rate = opts.rate ?? 16000;
  const usesKit = plan.reverb?.type === "rir" || plan.additive?.some((a) => a.type !== "colored");
  if (usesKit && rate !== 16000) throw new Error(`applyAugmentation: the asset kit is 16 kHz, the samples ${rate} Hz`);
  let x = samples;
  if (opts.voice !== false) {
    const fx = voiceEffects(plan);
    if (fx.length > 0) x = await soxFloat(x, rate, [...fx, "rate", "-v", String(rate)], tools);
  }
  if (plan.vtlp !== undefined && plan.vtlp !== 1) x = vtlp(x, plan.vtlp);
  if (plan.reverb) x = await reverberate(x, plan.reverb, assets, rate, opts.speech);
  if (plan.additive?.length) {
    const speechPower = opts.speech ? regionPower(x, opts.speech) : activePower(x, rate);
    const y = Float32Array.from(x);
    for (const a of plan.additive) await addSource(y, a, speechPower, assets, rng, rate);
    x = y;
  }
  if (plan.gainDb !== undefined || plan.clip) x = level(x, plan);
  if (plan.channel) x = await channel(x, plan.channel, rate, tools);
  return x;
}

/** Real or simulated room; the output has the input's speech power, so SNRs and gains stay meaningful. */
async function reverberate(x: Float32Array, reverb: Reverb, assets: AugmentAssets | null, rate: number, speech?: ApplyOptions["speech"]): Promise<Float32Array> {
  let h: Float32Array;
  let align: number;
  if (reverb.type === "rir") {
    if (!assets) throw new Error(`the plan uses the impulse response ${reverb.file} but no asset kit was given (--aug-assets)`);
    h = await assets.audio(reverb.file);
    align = onsetIndex(h);
  } else {
    // The simulated direct path is at ROOM_PAD (the largest sample can be a floor and a ceiling
    // reflection arriving together).
    h = roomImpulseResponse(reverb, rate, reverb.seconds);
    align = ROOM_PAD;
  }
  const y = convolveAligned(x, h, align);
  const before = speech ? regionPower(x, speech) : meanPower(x);
  const after = speech ? regionPower(y, speech) : meanPower(y);
  if (after > 0) {
    const g = Math.sqrt(before / after);
    for (let i = 0; i < y.length; i++) y[i] = y[i]! * g;
  }
  return y;
}

/**
 * The first arrival of a measured response: its first sample within 20 dB of the peak. Aligning there
 * rather than on the peak keeps a strong early reflection (a street's facade, a stairwell's build-up)
 * after the speech instead of before it.
 */
export function onsetIndex(h: Float32Array): number {
  let peak = 0;
  for (const v of h) peak = Math.max(peak, Math.abs(v));
  let i = 0;
  while (i < h.length - 1 && Math.abs(h[i]!) < 0.1 * peak) i++;
  return i;
}

async function addSource(y: Float32Array, a: Additive, speechPower: number, assets: AugmentAssets | null, rng: Rng, rate: number): Promise<void> {
  if (a.type === "colored") {
    addNoise(y, speechPower, a.snrDb, a.color, rng);
    return;
  }
  if (!assets) throw new Error(`the plan uses the ${a.type} clip ${a.file} but no asset kit was given (--aug-assets)`);
  const clip = await assets.audio(a.file);
  const noise = loopClip(clip, Math.round(a.start * rate), y.length);
  mixAtSnr(y, noise, speechPower, a.snrDb);
}

/** Adds `noise` scaled so that speechPower / power(scaled noise) is exactly `snrDb`. */
export function mixAtSnr(y: Float32Array, noise: Float32Array, speechPower: number, snrDb: number): void {
  const np = meanPower(noise);
  if (np === 0 || speechPower === 0) return;
  const g = Math.sqrt(speechPower / Math.pow(10, snrDb / 10) / np);
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + g * noise[i]!;
}

/** Crossfade (equal power, 50 ms) where a clip loops, so that a short clip covers a long talk without a click. */
const LOOP_FADE = 800;

/** `length` samples of `clip` from `start`, looping with a crossfade. */
export function loopClip(clip: Float32Array, start: number, length: number): Float32Array {
  const out = new Float32Array(length);
  if (clip.length === 0) return out;
  const fade = Math.min(LOOP_FADE, Math.floor(clip.length / 4));
  const period = clip.length - fade;
  for (let i = 0, j = ((start % period) + period) % period; i < length; i++, j = j + 1 === period ? 0 : j + 1) {
    if (j < fade) {
      const t = (j + 0.5) / fade;
      out[i] = clip[j]! * Math.sin((Math.PI / 2) * t) + clip[period + j]! * Math.cos((Math.PI / 2) * t);
    } else out[i] = clip[j]!;
  }
  return out;
}

function regionPower(x: Float32Array, regions: NonNullable<ApplyOptions["speech"]>): number {
  let s = 0;
  let n = 0;
  for (const [a, b] of regions) {
    for (let i = Math.max(0, a); i < Math.min(x.length, b); i++) s += x[i]! * x[i]!;
    n += Math.max(0, Math.min(x.length, b) - Math.max(0, a));
  }
  return n > 0 ? s / n : 0;
}

/** Speech power without speech times: the mean of the 20 ms frames within 35 dB of the loudest 5%. */
export function activePower(x: Float32Array, rate: number): number {
  const frame = Math.round(rate * 0.02);
  const powers: number[] = [];
  for (let i = 0; i + frame <= x.length; i += frame) powers.push(meanPower(x, i, i + frame));
  if (powers.length === 0) return meanPower(x);
  const sorted = [...powers].sort((a, b) => a - b);
  const floor = sorted[Math.floor(sorted.length * 0.95)]! * Math.pow(10, -3.5);
  const active = powers.filter((p) => p >= floor && p > 0);
  return active.length ? active.reduce((s, p) => s + p, 0) / active.length : 0;
}

/** Gain, the recorder's full scale, then clipping relative to the peak. */
function level(x: Float32Array, plan: Augmentation): Float32Array {
  const y = new Float32Array(x.length);
  const g = Math.pow(10, (plan.gainDb ?? 0) / 20);
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.max(-1, Math.min(1, x[i]! * g));
    y[i] = v;
    peak = Math.max(peak, Math.abs(v));
  }
  const c = plan.clip;
  if (c && peak > 0) {
    const t = c.level * peak;
    for (let i = 0; i < y.length; i++) y[i] = c.type === "hard" ? Math.max(-t, Math.min(t, y[i]!)) : t * Math.tanh(y[i]! / t);
  }
  return y;
}

async function channel(x: Float32Array, ch: Channel, rate: number, tools: Tools): Promise<Float32Array> {
  switch (ch.type) {
    case "telephone":
      return narrowband(x, rate, (n) => {
        telephoneBand(n);
        return n;
      });
    case "g711":
      return narrowband(x, rate, (n) => {
        telephoneBand(n);
        return g711RoundTrip(n, ch.law);
      });
    case "gsm":
      return narrowband(x, rate, (n) => {
        telephoneBand(n);
        return gsmRoundTrip(n, tools);
      });
    case "mp3":
      return mp3RoundTrip(x, rate, ch.kbps, tools);
    case "opus":
      return opusRoundTrip(x, rate, ch.kbps, tools);
  }
}

/** Runs a sox effect chain on float samples (raw float32 in and out). */
async function soxFloat(x: Float32Array, rate: number, effects: string[], tools: Tools): Promise<Float32Array> {
  const raw = ["-t", "raw", "-r", String(rate), "-e", "floating-point", "-b", "32", "-c", "1"];
  const out = await runProcessBytes(tools.sox, ["-V1", ...raw, "-", ...raw, "-", ...effects], Buffer.from(x.buffer, x.byteOffset, x.byteLength), tools.env);
  const y = new Float32Array(out.length >> 2);
  new Uint8Array(y.buffer).set(out.subarray(0, y.length * 4));
  return y;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The plan as speakers.tsv columns (model cards report them): one string per column of `augmentColumns`. */
export const augmentColumns = ["speed", "aug_tempo", "aug_pitch_cents", "vtlp", "reverb", "additive", "gain_db", "clip", "channel", "fallback"];

export function describeAugmentation(a: Augmentation): string[] {
  const rv = a.reverb;
  const reverb = !rv ? "" : rv.type === "rir" ? `rir:${rv.file}` : `room:${rv.dims.join("x")}m/rt60=${rv.rt60}s/d=${r3(Math.hypot(rv.source[0] - rv.mic[0], rv.source[1] - rv.mic[1], rv.source[2] - rv.mic[2]))}m`;
  const additive = (a.additive ?? []).map((s) => (s.type === "colored" ? `colored:${s.color}@${s.snrDb}dB` : `${s.type}:${s.file}+${s.start}s@${s.snrDb}dB`)).join(";");
  const ch = a.channel;
  const channelText = !ch ? "" : ch.type === "g711" ? `g711:${ch.law}` : ch.type === "mp3" || ch.type === "opus" ? `${ch.type}:${ch.kbps}kbps` : ch.type;
  return [
    String(a.speed), a.tempo === undefined ? "" : String(a.tempo), a.pitch === undefined ? "" : String(a.pitch), a.vtlp === undefined ? "" : String(a.vtlp),
    reverb, additive, a.gainDb === undefined ? "" : String(a.gainDb), a.clip ? `${a.clip.type}@${a.clip.level}` : "", channelText, (a.fallback ?? []).join(";"),
  ];
}
