// Shared by the corpus tests: run the real `nast` CLI and read back what it wrote.
import { readFileSync } from "node:fs";

export { runNast as nast } from "../helpers/cli.ts";

/** Header fields and int16 samples of a canonical 44-byte-header PCM WAV, checked field by field. */
export function readWav16(path: string): { rate: number; channels: number; bits: number; samples: Int16Array } {
  const b = readFileSync(path);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 16) !== "WAVEfmt " || b.toString("ascii", 36, 40) !== "data") {
    throw new Error(`${path}: not a canonical PCM WAV`);
  }
  const dataBytes = b.readUInt32LE(40);
  if (dataBytes !== b.length - 44 || b.readUInt32LE(4) !== b.length - 8) throw new Error(`${path}: size fields disagree with the file size`);
  const samples = new Int16Array(dataBytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(44 + 2 * i);
  return { rate: b.readUInt32LE(24), channels: b.readUInt16LE(22), bits: b.readUInt16LE(34), samples };
}

export function rms(x: ArrayLike<number>, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, end - start));
}
