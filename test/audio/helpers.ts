// Shared helpers of the audio tests: signal generators and real external tools (espeak-ng, sox,
// ffmpeg, Debian's python3 with torchaudio) run as subprocesses.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { buildWav } from "../fixtures/malformed.ts";

/** Debian's interpreter (python3-torchaudio lives there, not in a pyenv/venv python). */
export const PYTHON = process.env.NAST_PYTHON ?? "/usr/bin/python3";

export function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const result = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (result.error) throw new Error(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${result.status}): ${result.stderr.toString()}`);
  return result.stdout;
}

/** Writes 16-bit mono PCM. */
export function writeInt16Wav(path: string, samples: Int16Array, sampleRate = 16000): void {
  writeFileSync(path, buildWav({ sampleRate, data: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength) }));
}

/** Writes 64-bit float mono or interleaved multichannel WAV (a lossless source for conversions). */
export function writeFloat64Wav(path: string, interleaved: Float64Array, sampleRate: number, channels = 1): void {
  writeFileSync(path, buildWav({ formatTag: 3, bitsPerSample: 64, channels, sampleRate, data: new Uint8Array(interleaved.buffer) }));
}

/** Linear sine sweep from f0 to f1 Hz over `seconds`, amplitude `amp`, sampled at `rate`. */
export function sweep(rate: number, seconds: number, f0: number, f1: number, amp = 0.5): Float64Array {
  const n = Math.round(rate * seconds);
  const out = new Float64Array(n);
  const k = (f1 - f0) / seconds;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = amp * Math.sin(2 * Math.PI * (f0 * t + 0.5 * k * t * t));
  }
  return out;
}

/** A test signal: 300 Hz + 1100 Hz tones, well inside every codec's passband. */
export function twoTones(rate: number, seconds: number, amp = 0.4): Float64Array {
  const n = Math.round(rate * seconds);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = amp * (0.6 * Math.sin(2 * Math.PI * 300 * t) + 0.4 * Math.sin(2 * Math.PI * 1100 * t + 0.3));
  }
  return out;
}

/** SNR in dB of `got` against `ref` over [from, to). */
export function snrDb(got: ArrayLike<number>, ref: ArrayLike<number>, from: number, to: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    signal += ref[i]! * ref[i]!;
    noise += (got[i]! - ref[i]!) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-300));
}

/** espeak-ng speech, resampled to 16 kHz 16-bit by sox; returns the int16 samples. */
export function espeakInt16(text: string, voice = "en", dir: string, name: string): Int16Array {
  const raw = `${dir}/${name}.espeak.wav`;
  run("espeak-ng", ["-v", voice, "-w", raw, text]);
  const pcm = run("sox", [raw, "-r", "16000", "-b", "16", "-c", "1", "-e", "signed-integer", "-t", "raw", "-"]);
  return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
}
