// Test fixtures built on the fly (nothing cached in the repo): a SentencePiece model trained by
// spm_train, a random-init checkpoint of a preset written as safetensors, its exported model package,
// and synthetic speech from espeak-ng with pauses between sentences.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import wavefile from "wavefile";
import { decodeAudio } from "../../src/audio/decode.ts";
import { exportModel } from "../../src/export/exporter.ts";
import { randomStateDict } from "../../src/export/random-state.ts";
import { toHostTensors } from "../../src/export/checkpoint.ts";
import { encodeSafetensors } from "../../src/formats/safetensors.ts";
import { loadConfig, withVocabSize, type ModelConfig, type NastConfig } from "../../src/model/config.ts";

export const SENTENCES_EN = [
  "hello and welcome to this talk about speech translation",
  "today we will look at how machines translate what people say",
  "the weather is nice and the sun is shining over the city",
  "thank you very much for listening to me",
];
const SENTENCES_ES = [
  "hola y bienvenidos a esta charla sobre la traducción del habla",
  "hoy veremos cómo las máquinas traducen lo que dice la gente",
  "el tiempo es agradable y el sol brilla sobre la ciudad",
  "muchas gracias por escucharme",
];

/** spm_train on the fixture sentences with the project's id layout (blank = <s> = 0). */
export function trainSpm(dir: string, vocabSize: number): string {
  mkdirSync(dir, { recursive: true });
  const text = join(dir, "text.txt");
  writeFileSync(text, [...SENTENCES_EN, ...SENTENCES_ES].join("\n") + "\n");
  execFileSync(
    "spm_train",
    [`--input=${text}`, `--model_prefix=${join(dir, "spm")}`, `--vocab_size=${vocabSize}`, "--model_type=unigram", "--character_coverage=1.0", "--bos_id=0", "--pad_id=1", "--eos_id=2", "--unk_id=3"],
    { stdio: "ignore" },
  );
  return join(dir, "spm.model");
}

/** A checkpoint of `preset` with random weights (seeded) and the nast.config metadata, as nast train writes it. */
export function writeRandomCheckpoint(path: string, cfg: ModelConfig, seed = 1): void {
  writeFileSync(path, encodeSafetensors(toHostTensors(randomStateDict(cfg, seed)), { "nast.config": JSON.stringify(cfg), "nast.step": "0" }));
}

export interface TinyModel {
  dir: string;
  cfg: NastConfig;
  checkpoint: string;
}

/** Exports a random-init model of `preset` (vocabulary 64 unless given) into root/model (+ ckpt, spm). */
export function tinyModelPackage(root: string, opts: { preset?: string; vocab?: number; fp16?: boolean; seed?: number } = {}): TinyModel {
  mkdirSync(root, { recursive: true });
  const vocab = opts.vocab ?? 64;
  const spm = trainSpm(join(root, "spm"), vocab);
  const cfg = withVocabSize(loadConfig(opts.preset ?? "tiny"), vocab);
  const checkpoint = join(root, "ckpt.safetensors");
  writeRandomCheckpoint(checkpoint, cfg, opts.seed ?? 1);
  const dir = join(root, "model");
  exportModel({ checkpoint, outDir: dir, spm, fp16: opts.fp16 });
  return { dir, cfg, checkpoint };
}

export function writeWav16k(path: string, samples: Float32Array): void {
  const wav = new wavefile.WaveFile();
  const ints = Int16Array.from(samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
  wav.fromScratch(1, 16000, "16", ints);
  writeFileSync(path, wav.toBuffer());
}

/** espeak-ng speech of `sentences` at 16 kHz, with `pause` seconds of silence before, between and after. */
export async function synthTalk(
  dir: string,
  sentences: readonly string[],
  pause = 1.0,
  name = "talk.wav",
): Promise<{ path: string; samples: Float32Array; duration: number; spans: { offset: number; duration: number }[] }> {
  mkdirSync(dir, { recursive: true });
  const parts: Float32Array[] = [];
  const silence = new Float32Array(Math.round(pause * 16000));
  parts.push(silence);
  for (const [i, s] of sentences.entries()) {
    const wav = join(dir, `s${i}.wav`);
    execFileSync("espeak-ng", ["-v", "en", "-w", wav, s], { stdio: "ignore" });
    parts.push((await decodeAudio(wav)).samples, silence);
  }
  const samples = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  const spans: { offset: number; duration: number }[] = [];
  let off = 0;
  for (const [i, p] of parts.entries()) {
    if (i % 2 === 1) spans.push({ offset: off / 16000, duration: p.length / 16000 });
    samples.set(p, off);
    off += p.length;
  }
  const path = join(dir, name);
  writeWav16k(path, samples);
  return { path, samples, duration: samples.length / 16000, spans };
}
