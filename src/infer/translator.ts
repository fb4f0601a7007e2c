// Audio → segments → features → batched network → CTC decoding → text with times (../shared/DESIGN.md,
// "Data flow"). Long audio is cut at pauses (≤ ~20 s per segment) by a segmenter (./vad.ts: Silero VAD,
// or the energy segmenter of src/audio/segment.ts, the default here); segments are sorted by length and
// batched, and features are computed batch by batch, so memory stays bounded by the decoded samples plus
// one batch. Timings per stage are accumulated for `nast bench infer` (segmentation counts as audio).
// The input level hardly matters to the model, so quiet audio is not normalised: a gain g adds 2·ln g
// to every log-mel energy of every frame, and utterance CMVN subtracts the per-bin mean, so features
// are the same at any level, except where mel energies fall under the fbank's floor (float32 epsilon
// on the int16 scale): digital silence (exact zeros, which synthetic audio has), and the lowest bins
// of a very quiet noise floor. A 16-bit recording at -52 dBFS peak still translates nearly as at full
// level (test/infer/vad.test.ts).
import { basename } from "node:path";
import { decodeAudio } from "../audio/decode.ts";
import { fbank, fbankFrameCount, FBANK_DIM } from "../audio/fbank.ts";
import { utteranceCmvn } from "../audio/cmvn.ts";
import { energyLevels, peakDbfs, type SpeechSegment } from "../audio/segment.ts";
import { Progress } from "../util/progress.ts";
import { beamDecode, greedyDecode, type CtcToken } from "./ctc.ts";
import type { ModelPackage } from "./model-package.ts";
import type { BatchRunner, Features } from "./session.ts";
import { energySegmenter, type Segmenter } from "./vad.ts";
import { round3, tokensToWords } from "./words.ts";
import { joinTranslations, type FileResult, type SegmentResult } from "./writers.ts";

const SAMPLE_RATE = 16000;
/** Segments shorter than this many fbank frames (50 ms) carry no speech the model can translate. */
const MIN_FRAMES = 5;
/** Largest share of padded frames in a batch. */
const MAX_PADDING = 0.2;

export interface TranslatorOptions {
  /** Beam width; 0 or 1 = greedy (the reference's default decoding). */
  beam?: number;
  /** Tokens considered per frame by the beam search (ctcdecode cutoff_top_n; reference 40). */
  topK?: number;
  /** Most segments per batch. */
  batchSize?: number;
  /** Most padded frames per batch (batch size × longest segment). */
  maxBatchFrames?: number;
  /** Longest segment in seconds when cutting long audio. */
  maxSegmentSeconds?: number;
  /** Show a progress bar (default: on a TTY, for inputs of more than one segment). */
  progress?: boolean;
  /** How long audio is cut into segments (default: the energy segmenter). */
  segmenter?: Segmenter;
  /** Receives warnings about an input (e.g. no speech found), each naming the input. */
  warn?: (message: string) => void;
}

/** Decoding of one segment. */
export interface Decoded {
  translation: string;
  source: string;
  tokens: CtcToken[];
  /** Output frames of the segment. */
  steps: number;
}

export interface Timings {
  /** Seconds spent decoding audio files, computing features, running the network, decoding CTC. */
  audio: number;
  features: number;
  network: number;
  ctc: number;
}

export class Translator {
  readonly timings: Timings = { audio: 0, features: 0, network: 0, ctc: 0 };
  private readonly beam: number;
  private readonly topK: number;
  private readonly batchSize: number;
  private readonly maxBatchFrames: number;

  constructor(
    readonly pkg: ModelPackage,
    private readonly session: BatchRunner,
    private readonly opts: TranslatorOptions = {},
  ) {
    this.beam = opts.beam ?? 0;
    this.topK = opts.topK ?? 40;
    this.batchSize = Math.max(1, opts.batchSize ?? 8);
    // Beam search reads the full log-probabilities back, B × T/4 × V floats = B·T·V bytes for T input
    // frames: keep that near 64 MB per batch (V = 10000: 6400 padded frames, three 20 s segments).
    const frameBudget = opts.maxBatchFrames ?? 16000;
    this.maxBatchFrames = this.beam > 1 ? Math.min(frameBudget, Math.floor(64e6 / pkg.cfg.vocabSize)) : frameBudget;
  }

  /** Features of one stretch of 16 kHz samples: Kaldi fbank, then utterance CMVN. */
  features(samples: Float32Array): Features {
    const t0 = performance.now();
    const f = fbank(samples, SAMPLE_RATE);
    utteranceCmvn(f.data, f.frames, FBANK_DIM);
    this.timings.features += (performance.now() - t0) / 1000;
    return { feats: f.data, frames: f.frames };
  }

  /**
   * Translates `count` utterances whose features `get(i)` computes on demand (called once each, in
   * batch order; `frames(i)` must give their frame counts up front for sorting). Results in input order.
   */
  async translateAll(count: number, frames: (i: number) => number, get: (i: number) => Features, onBatch?: (done: number) => void): Promise<Decoded[]> {
    const results: Decoded[] = new Array(count);
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => frames(b) - frames(a));
    let i = 0;
    while (i < order.length) {
      const idx = order[i]!;
      if (frames(idx) < MIN_FRAMES) {
        results[idx] = { translation: "", source: "", tokens: [], steps: 0 };
        i++;
        onBatch?.(1);
        continue;
      }
      // Longest first, so the first item sets the padded length of the batch. An item joins only while
      // padding stays under MAX_PADDING of the batch: computing on padding costs as much as on speech
      // (more, for attention), and a 2-core CPU gains little from larger matrices.
      const longest = frames(idx);
      const batch: number[] = [];
      let real = 0;
      while (i < order.length && batch.length < this.batchSize && (batch.length + 1) * longest <= Math.max(this.maxBatchFrames, longest)) {
        const next = frames(order[i]!);
        if (next < MIN_FRAMES) break;
        if (batch.length > 0 && real + next < (1 - MAX_PADDING) * (batch.length + 1) * longest) break;
        batch.push(order[i]!);
        real += next;
        i++;
      }
      const decoded = await this.decodeBatch(batch.map(get));
      batch.forEach((idx2, k) => (results[idx2] = decoded[k]!));
      onBatch?.(batch.length);
    }
    return results;
  }

  /** One forward pass over a padded batch, then CTC decoding of each item. */
  async decodeBatch(items: Features[]): Promise<Decoded[]> {
    const useBeam = this.beam > 1;
    let t0 = performance.now();
    const out = await this.session.run(items, useBeam);
    this.timings.network += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const { steps, vocab } = out;
    const decoded = items.map((_, b) => {
      const len = out.outLengths[b]!;
      const from = b * steps;
      const hyp = useBeam
        ? beamDecode(out.tgtLogProbs!.subarray(from * vocab, (from + steps) * vocab), vocab, len, { width: this.beam, topK: this.topK })
        : greedyDecode(out.tgtIds.subarray(from, from + steps), out.tgtScores.subarray(from, from + steps), len);
      const src = greedyDecode(out.srcIds.subarray(from, from + steps), undefined, len);
      return {
        translation: this.pkg.sp.decode(hyp.tokens.map((t) => t.id)),
        source: this.pkg.sp.decode(src.tokens.map((t) => t.id)),
        tokens: hyp.tokens,
        steps: len,
      };
    });
    this.timings.ctc += (performance.now() - t0) / 1000;
    return decoded;
  }

  /** Decodes, segments and translates one audio input (a path, or "-" for stdin). */
  async translateFile(input: string, modelName: string): Promise<FileResult> {
    let t0 = performance.now();
    const audio = await decodeAudio(input, { sampleRate: SAMPLE_RATE });
    const samples = audio.samples;
    const segmenter = this.opts.segmenter ?? energySegmenter;
    const segments: SpeechSegment[] = await segmenter.segment(samples, SAMPLE_RATE, { maxSeconds: this.opts.maxSegmentSeconds ?? 20 });
    this.timings.audio += (performance.now() - t0) / 1000;
    if (segments.length === 0) this.opts.warn?.(noSpeechMessage(input, samples, segmenter.name));

    const progress = new Progress({
      total: segments.length,
      label: input === "-" ? "stdin" : basename(input),
      unit: " seg",
      enabled: this.opts.progress ?? (Boolean(process.stderr.isTTY) && segments.length > 1),
    });
    const frameCount = (i: number): number => fbankFrameCount(segments[i]!.end - segments[i]!.start, SAMPLE_RATE);
    const decoded = await this.translateAll(
      segments.length,
      frameCount,
      (i) => this.features(samples.subarray(segments[i]!.start, segments[i]!.end)),
      (n) => progress.tick(n),
    );
    progress.finish();
    t0 = performance.now();
    const fs = this.pkg.frameSeconds;
    const results: SegmentResult[] = segments.map((seg, i) => {
      const d = decoded[i]!;
      const start = seg.start / SAMPLE_RATE;
      return {
        start: round3(start),
        end: round3(seg.end / SAMPLE_RATE),
        source: d.source,
        translation: d.translation,
        words: tokensToWords(d.tokens, this.pkg.sp, fs, start).map((w) => ({ ...w, end: Math.min(w.end, round3(seg.end / SAMPLE_RATE)) })),
      };
    });
    this.timings.ctc += (performance.now() - t0) / 1000;
    return {
      file: input,
      duration: round3(audio.duration),
      model: modelName,
      segments: results,
      translation: joinTranslations(results),
    };
  }
}

/** The warning for an input in which `segmenter` found no speech: its name, length and levels. */
export function noSpeechMessage(input: string, samples: Float32Array, segmenter: string): string {
  const name = input === "-" ? "stdin" : input;
  const peak = peakDbfs(samples);
  const levels = energyLevels(samples, SAMPLE_RATE);
  const level = peak === -Infinity ? "digital silence" : `peak ${peak.toFixed(1)} dBFS, speech level ${levels.speechDb.toFixed(1)} dBFS RMS, noise floor ${levels.noiseDb.toFixed(1)} dBFS`;
  return `${name}: no speech found by the ${segmenter} segmenter in ${(samples.length / SAMPLE_RATE).toFixed(1)} s of audio (${level}); nothing to translate`;
}
