// The model package of the page, fetched from the server that serves the page (`nast serve`: /model/),
// never from anywhere else; the checks are those of src/formats/model-package.ts that need no file
// system: the vocabulary sizes of config.json and spm.model agree, and model.onnx carries its frame rate.
import { readOnnxInfo } from "../formats/onnx-info.ts";
import type { TranslatorModel } from "../infer/segment-translator.ts";
import { SentencePieceCodec } from "../text/sentencepiece-codec.ts";

export interface FetchedModel {
  model: TranslatorModel;
  onnx: Uint8Array;
  inputDim: number;
  /** config.json's description, shown on the page. */
  description: string;
}

/** The bytes of `url`, with `onBytes(received, total)` as they arrive (total 0 when unknown). */
export async function fetchBytes(url: string, onBytes: (received: number, total: number) => void = () => {}): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get("content-length") ?? 0);
  if (res.body === null) return new Uint8Array(await res.arrayBuffer());
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onBytes(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface PackageConfig {
  vocabSize: number;
  inputDim: number;
  description?: string;
  subsampler: { layers: number };
  decoding?: { blankPenalty: number };
}

/** model.onnx, spm.model and config.json under `base` (a URL ending in /). */
export async function fetchModel(base: string, onBytes: (received: number, total: number) => void): Promise<FetchedModel> {
  const cfg = JSON.parse(new TextDecoder().decode(await fetchBytes(`${base}config.json`))) as PackageConfig;
  if (!Number.isInteger(cfg.vocabSize) || !Number.isInteger(cfg.inputDim)) throw new Error(`${base}config.json: no vocabSize or inputDim (not a nast model package?)`);
  const sp = SentencePieceCodec.fromBytes(await fetchBytes(`${base}spm.model`), `${base}spm.model`);
  if (sp.vocabSize !== cfg.vocabSize) throw new Error(`${base}spm.model: ${sp.vocabSize} pieces, config.json says ${cfg.vocabSize}`);
  const onnx = await fetchBytes(`${base}model.onnx`, onBytes);
  const metadata = readOnnxInfo(onnx).metadata;
  // As src/formats/model-package.ts: the exporter writes the frame rate; 10 ms × the subsampling otherwise.
  const frameSeconds = Number(metadata["nast.frame_seconds"] ?? 0.01 * 2 ** cfg.subsampler.layers);
  const decoding = cfg.decoding;
  if (decoding !== undefined && !Number.isFinite(decoding.blankPenalty)) throw new Error(`${base}config.json: decoding.blankPenalty is not a number`);
  return { model: { sp, frameSeconds, cfg: { vocabSize: cfg.vocabSize, ...(decoding ? { decoding } : {}) } }, onnx, inputDim: cfg.inputDim, description: cfg.description ?? "" };
}
