// Channels and codecs of the augmenter: the telephone band (300-3400 Hz at 8 kHz, ITU-T G.712's
// pass band), G.711 µ-law and A-law (ITU-T Rec. G.711, 1988: companding written here), GSM 06.10 full
// rate through sox (`-t gsm`, libgsm), MP3 through LAME and Opus through opus-tools at low bit rates.
// Only sox, lame, opusenc and opusdec run: the GPU host that makes the big corpus has no ffmpeg, only
// a prefix of unpacked Debian packages (src/corpus/tools.ts). The 8 kHz round trip uses our own
// resampler. Every external call is deterministic: sox -D (no dither), opusdec --float (no dither),
// lame's CBR encoder has no random parts.
import { resample } from "../audio/resample.ts";
import { BUTTERWORTH4_Q, biquad, filtfiltInPlace } from "./dsp.ts";
import { runProcessBytes } from "./process.ts";
import type { Tools } from "./tools.ts";

// ---- G.711 (the segment tables of ITU-T G.711, Tables 1a/1b and 2a/2b) ----

// G.711 is defined on 14-bit (µ-law) and 13-bit (A-law) linear samples; 16-bit input is rounded to
// them (as sox does, not truncated as in Sun's reference g711.c), which only moves values lying within
// one 16-bit step of a decision level.

/** µ-law code of a 16-bit linear sample (14-bit magnitude, bias 33, 8 segments; even-bit inverted). */
export function linearToUlaw(pcm: number): number {
  let v = (pcm + 2) >> 2; // 14-bit range
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > 8159) v = 8159;
  v += 33;
  let seg = 0;
  while (seg < 8 && v > (0x40 << seg) - 1) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/** 16-bit linear value of a µ-law code (the decision interval's middle, as G.711's decoder tables). */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** A-law code of a 16-bit linear sample (13-bit magnitude, 8 segments; even bits inverted, 0x55). */
export function linearToAlaw(pcm: number): number {
  let v = (pcm + 4) >> 3; // 13-bit range
  let mask = 0xd5;
  if (v < 0) {
    v = -v - 1;
    mask = 0x55;
  }
  let seg = 0;
  while (seg < 8 && v > (0x20 << seg) - 1) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const q = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | q) ^ mask;
}

export function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Round trip through µ-law or A-law of float samples in [-1, 1] (16-bit full scale = 1). */
export function g711RoundTrip(x: Float32Array, law: "ulaw" | "alaw"): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const pcm = Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32768)));
    out[i] = (law === "ulaw" ? ulawToLinear(linearToUlaw(pcm)) : alawToLinear(linearToAlaw(pcm))) / 32768;
  }
  return out;
}

// ---- the telephone band ----

/**
 * Band-passes 8 kHz samples to 300-3400 Hz in place: 4th-order Butterworth high- and low-pass run
 * forward and backward (zero phase, so the talk's timing stays; 48 dB/octave skirts).
 */
export function telephoneBand(x8k: Float32Array): void {
  filtfiltInPlace(x8k, [
    ...BUTTERWORTH4_Q.map((q) => biquad("highpass", 300, 8000, q)),
    ...BUTTERWORTH4_Q.map((q) => biquad("lowpass", 3400, 8000, q)),
  ]);
}

/** 16 kHz -> 8 kHz, `inner` on the 8 kHz signal, -> 16 kHz, cut to the input's length. */
export async function narrowband(x: Float32Array, rate: number, inner: (x8k: Float32Array) => Promise<Float32Array> | Float32Array): Promise<Float32Array> {
  const low = await inner(resample(x, rate, 8000));
  const back = resample(low, 8000, rate);
  const out = new Float32Array(x.length);
  out.set(back.subarray(0, Math.min(back.length, x.length)));
  return out;
}

// ---- codecs through external programs ----

function toPcm16(x: Float32Array): Buffer {
  const buf = Buffer.alloc(x.length * 2);
  for (let i = 0; i < x.length; i++) buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32767))), 2 * i);
  return buf;
}

function fromPcm16(b: Buffer, skip: number, length: number): Float32Array {
  const out = new Float32Array(length);
  const avail = Math.max(0, Math.min(length, (b.length >> 1) - skip));
  for (let i = 0; i < avail; i++) out[i] = b.readInt16LE(2 * (i + skip)) / 32768;
  return out;
}

function fromFloat32(b: Buffer, length: number): Float32Array {
  const out = new Float32Array(length);
  const avail = Math.min(length, b.length >> 2);
  for (let i = 0; i < avail; i++) out[i] = b.readFloatLE(4 * i);
  return out;
}

function need(tools: Tools, name: "lame" | "opusenc" | "opusdec"): string {
  const bin = tools[name];
  if (!bin) throw new Error(`the augmentation plan uses ${name}, which these tools do not provide: install ${name === "lame" ? "lame" : "opus-tools"} or leave the codec out of --augment`);
  return bin;
}

/** GSM 06.10 full rate (13 kbit/s) through sox's libgsm, on 8 kHz samples. */
export async function gsmRoundTrip(x8k: Float32Array, tools: Tools): Promise<Float32Array> {
  const raw = ["-t", "raw", "-r", "8000", "-e", "floating-point", "-b", "32", "-c", "1"];
  const f32 = Buffer.from(x8k.buffer, x8k.byteOffset, x8k.byteLength);
  const gsm = await runProcessBytes(tools.sox, ["-D", "-V1", ...raw, "-", "-t", "gsm", "-"], f32, tools.env);
  const back = await runProcessBytes(tools.sox, ["-D", "-V1", "-t", "gsm", "-r", "8000", "-c", "1", "-", ...raw, "-"], gsm, tools.env);
  return fromFloat32(back, x8k.length);
}

/**
 * MPEG-1/2 layer III through LAME at a constant `kbps`, kept at the input rate (`--resample`, or LAME
 * would drop to 8 kHz at the lowest rates). LAME's decoder skips its 529-sample decoder delay; the
 * encoder's 576-sample delay (LAME's ENCDELAY) is skipped here, so the output keeps the input's timing.
 */
export async function mp3RoundTrip(x: Float32Array, rate: number, kbps: number, tools: Tools): Promise<Float32Array> {
  const lame = need(tools, "lame");
  const khz = String(rate / 1000);
  const mp3 = await runProcessBytes(lame, ["--quiet", "-r", "-s", khz, "--bitwidth", "16", "--signed", "--little-endian", "-m", "m", "--cbr", "-b", String(kbps), "--resample", khz, "-", "-"], toPcm16(x), tools.env);
  const pcm = await runProcessBytes(lame, ["--quiet", "--decode", "--mp3input", "-t", "-", "-"], mp3, tools.env);
  return fromPcm16(pcm, MP3_ENCODER_DELAY, x.length);
}

export const MP3_ENCODER_DELAY = 576;

/** Opus (SILK/CELT) through opusenc/opusdec at `kbps` (6 kbit/s and up), complexity 5 (a third faster than the default 10, as VoIP clients on phones run it), decoded at the input rate. */
export async function opusRoundTrip(x: Float32Array, rate: number, kbps: number, tools: Tools): Promise<Float32Array> {
  const enc = need(tools, "opusenc");
  const dec = need(tools, "opusdec");
  const opus = await runProcessBytes(enc, ["--quiet", "--raw", "--raw-rate", String(rate), "--raw-chan", "1", "--raw-bits", "16", "--bitrate", String(kbps), "--comp", "5", "--serial", "1", "-", "-"], toPcm16(x), tools.env);
  // opusdec removes the pre-skip itself; --float: no dither (dither would be random).
  const f32 = await runProcessBytes(dec, ["--quiet", "--rate", String(rate), "--float", "-", "-"], opus, tools.env);
  return fromFloat32(f32, x.length);
}
