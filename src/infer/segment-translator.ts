// The translation of one recording, without node:* imports (the CLI's ./translator.ts and the browser
// page, src/web, both run it): samples → segments → features → batched network → CTC decoding → text
// with times (docs/design.md §4.1). An autoregressive model's engine (./ar-runner.ts) searches instead: its
// translation's word times come from its auxiliary source CTC (spreadOverSpeech). ./translator.ts says how a recording is read twice, windowed and
// sorted into batches, and why quiet audio is not normalised.
import { fbank, fbankFrameCount, FBANK_DIM } from "../audio/fbank.ts";
import { utteranceCmvn } from "../audio/cmvn.ts";
import { AudioMeter, type AudioStats, type SpeechSegment } from "../audio/segment.ts";
import { InputError, UsageError } from "../util/errors.ts";
import { beamDecode, greedyDecode, greedyDecodeAlternatives, greedyDecodePenalized, type CtcToken } from "./ctc.ts";
import type { SentencePieceCodec } from "../text/sentencepiece-codec.ts";
import { isSearchRunner, type BatchRunner, type Features, type OutputReads, type SearchRunner } from "./batch-runner.ts";
import { energySegmenter, type Segmenter } from "./segmenters.ts";
import { round3, tokensToWords } from "./words.ts";
import type { ResultSink, SegmentResult } from "./result-formats.ts";

/** What the translator needs of a model package (src/formats/model-package.ts; the runner has the network). */
export interface TranslatorModel {
  readonly sp: SentencePieceCodec;
  /** Seconds per output frame of the CTC heads. */
  readonly frameSeconds: number;
  /** decoding: the package's default decoding (config.json, src/model/config.ts). */
  readonly cfg: { readonly vocabSize: number; readonly decoding?: { readonly blankPenalty: number } };
}

/** A recording of 16 kHz mono samples that can be read from the start more than once. */
export interface SampleSource {
  /** The name errors give. */
  readonly name: string;
  chunks(): AsyncIterable<Float32Array>;
}

/** Hears how far a translation got, in seconds of audio. */
export interface ProgressSink {
  /** Before the first segment: the recording's length, and whether it is long (more than one segment). */
  start(totalSeconds: number, long: boolean): void;
  advance(seconds: number): void;
  finish(): void;
}

const SAMPLE_RATE = 16000;
/** Segments shorter than this many fbank frames (50 ms) carry no speech the model can translate. */
const MIN_FRAMES = 5;
/** Largest share of padded frames in a batch. */
const MAX_PADDING = 0.2;
/**
 * Segments translated together, sorted by length into batches: at most this many, or this much audio
 * (10 MB of samples), whichever comes first. (Batches in a larger window would pad less.)
 */
const WINDOW_SEGMENTS = 64;
const WINDOW_SECONDS = 160;

export interface TranslatorOptions {
  /** Beam width; 0 or 1 = greedy (the reference's default decoding). */
  beam?: number;
  /** Tokens considered per frame by the beam search (ctcdecode cutoff_top_n; reference 40). */
  topK?: number;
  /** Lowers the target CTC's blank log-probability by this much (./ctc.ts greedyDecodePenalized); default: the package's (config.json "decoding"), else 0. */
  blankPenalty?: number;
  /** Most segments per batch. */
  batchSize?: number;
  /** Most padded frames per batch (batch size × longest segment). */
  maxBatchFrames?: number;
  /** Longest segment in seconds when cutting long audio. */
  maxSegmentSeconds?: number;
  /** Show a progress bar on stderr (./translator.ts; default: on a TTY, for inputs of more than one segment). */
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

export class SegmentTranslator {
  readonly timings: Timings = { audio: 0, features: 0, network: 0, ctc: 0 };
  private readonly beam: number;
  private readonly topK: number;
  /** The blank penalty decoding runs with: the option's, else the package's, else 0. */
  readonly blankPenalty: number;
  private readonly batchSize: number;
  private readonly maxBatchFrames: number;

  constructor(
    readonly pkg: TranslatorModel,
    private readonly session: BatchRunner | SearchRunner,
    protected readonly opts: TranslatorOptions = {},
  ) {
    this.beam = opts.beam ?? 0;
    this.topK = opts.topK ?? 40;
    this.blankPenalty = opts.blankPenalty ?? pkg.cfg.decoding?.blankPenalty ?? 0;
    if (this.blankPenalty !== 0 && isSearchRunner(session)) {
      throw new UsageError("--blank-penalty: this is an autoregressive model, which has no target CTC to penalize");
    }
    this.batchSize = Math.max(1, opts.batchSize ?? 8);
    // Beam search reads the full log-probabilities back, B × T/4 × V floats = B·T·V bytes for T input
    // frames: keep that near 64 MB per batch (V = 10000: 6400 padded frames, three 20 s segments). So does a blank
    // penalty on an engine without the alternatives to the blank.
    const frameBudget = opts.maxBatchFrames ?? 16000;
    this.maxBatchFrames = this.reads() !== "greedy" && !isSearchRunner(session) ? Math.min(frameBudget, Math.floor(64e6 / pkg.cfg.vocabSize)) : frameBudget;
  }

  /** Beam search reads the whole T × V log-probabilities; a blank penalty, the alternatives to the blank; plain greedy, the graph's argmax. */
  private reads(): OutputReads {
    return this.beam > 1 ? "logProbs" : this.blankPenalty !== 0 ? "alternatives" : "greedy";
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

  /** One forward pass over a padded batch, then CTC decoding of each item (or the autoregressive search). */
  async decodeBatch(items: Features[]): Promise<Decoded[]> {
    if (isSearchRunner(this.session)) return this.searchBatch(this.session, items);
    const useBeam = this.beam > 1;
    let t0 = performance.now();
    const out = await this.session.run(items, this.reads());
    this.timings.network += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const { steps, vocab } = out;
    const decoded = items.map((_, b) => {
      const len = out.outLengths[b]!;
      const from = b * steps;
      const hyp = useBeam
        ? beamDecode(out.tgtLogProbs!.subarray(from * vocab, (from + steps) * vocab), vocab, len, { width: this.beam, topK: this.topK, blankPenalty: this.blankPenalty })
        : this.blankPenalty !== 0
          ? out.tgtAlternatives !== undefined
            ? greedyDecodeAlternatives(out.tgtAlternatives.blank.subarray(from, from + steps), out.tgtAlternatives.ids.subarray(from, from + steps), out.tgtAlternatives.scores.subarray(from, from + steps), len, this.blankPenalty)
            : greedyDecodePenalized(out.tgtLogProbs!.subarray(from * vocab, (from + steps) * vocab), vocab, len, this.blankPenalty)
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

  /** The autoregressive model's search over a padded batch (network time), and the source CTC's decoding. */
  private async searchBatch(runner: SearchRunner, items: Features[]): Promise<Decoded[]> {
    let t0 = performance.now();
    const out = await runner.search(items, this.beam);
    this.timings.network += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const decoded = items.map((_, b) => {
      const len = out.outLengths[b]!;
      const src = greedyDecode(out.srcIds.subarray(b * out.steps, (b + 1) * out.steps), undefined, len);
      const ids = out.hypotheses[b]!.tokens;
      return { translation: this.pkg.sp.decode(ids), source: this.pkg.sp.decode(src.tokens.map((t) => t.id)), tokens: spreadOverSpeech(ids, src.tokens, len), steps: len };
    });
    this.timings.ctc += (performance.now() - t0) / 1000;
    return decoded;
  }

  /** Pass 1 of translateSource: the length and levels of the whole recording (what the segmenters need). */
  async measure(source: SampleSource): Promise<AudioStats> {
    const t0 = performance.now();
    const meter = new AudioMeter(SAMPLE_RATE);
    for await (const block of source.chunks()) meter.push(block);
    this.timings.audio += (performance.now() - t0) / 1000;
    return meter.finish();
  }

  /**
   * Segments and translates one recording of 16 kHz samples, read twice (`source.chunks()`), streaming:
   * `sink` gets the header (file: `file`) once the recording has been read through (its first pass; a bad
   * input fails before), then each segment as soon as it is translated, in time order, then the whole
   * translation. `progress` hears of the seconds translated. `measured`: the first pass's result when it
   * was taken beforehand (`measure`, e.g. while the network worked on another input).
   */
  async translateSource(
    source: SampleSource,
    file: string,
    modelName: string,
    sink: ResultSink,
    progress?: ProgressSink,
    measured?: AudioStats,
  ): Promise<{ segments: number; duration: number }> {
    const segmenter = this.opts.segmenter ?? energySegmenter;
    const maxSeconds = this.opts.maxSegmentSeconds ?? 20;
    const stats = measured ?? (await this.measure(source));
    const duration = round3(stats.samples / SAMPLE_RATE);
    sink.begin({ file, duration, model: modelName });

    // Pass 2: cut, translate window by window, hand on in time order.
    const t0 = performance.now();
    let translateSeconds = 0;
    const stream = segmenter.open(stats, { maxSeconds });
    const audio = new HeldSamples();
    const total = Math.ceil(stats.samples / SAMPLE_RATE);
    progress?.start(total, stats.samples > maxSeconds * SAMPLE_RATE);
    let window: { seg: SpeechSegment; samples: Float32Array }[] = [];
    let windowSamples = 0;
    let count = 0;
    let shown = 0;
    const translations: string[] = [];
    const flush = async (): Promise<void> => {
      if (window.length === 0) return;
      const t1 = performance.now();
      const items = window;
      window = [];
      windowSamples = 0;
      const decoded = await this.translateAll(
        items.length,
        (i) => fbankFrameCount(items[i]!.samples.length, SAMPLE_RATE),
        (i) => this.features(items[i]!.samples),
      );
      const t2 = performance.now();
      const fs = this.pkg.frameSeconds;
      items.forEach(({ seg }, i) => {
        const d = decoded[i]!;
        const start = seg.start / SAMPLE_RATE;
        const result: SegmentResult = {
          start: round3(start),
          end: round3(seg.end / SAMPLE_RATE),
          source: d.source,
          translation: d.translation,
          words: tokensToWords(d.tokens, this.pkg.sp, fs, start).map((w) => ({ ...w, end: Math.min(w.end, round3(seg.end / SAMPLE_RATE)) })),
        };
        sink.segment(result);
        const t = result.translation.trim();
        if (t.length > 0) translations.push(t);
      });
      this.timings.ctc += (performance.now() - t2) / 1000;
      count += items.length;
      const done = Math.floor(items[items.length - 1]!.seg.end / SAMPLE_RATE);
      progress?.advance(done - shown);
      shown = done;
      translateSeconds += (performance.now() - t1) / 1000;
    };
    const take = async (segs: SpeechSegment[]): Promise<void> => {
      for (const seg of segs) {
        window.push({ seg, samples: audio.copy(seg.start, seg.end) });
        windowSamples += seg.end - seg.start;
      }
      if (window.length >= WINDOW_SEGMENTS || windowSamples >= WINDOW_SECONDS * SAMPLE_RATE) await flush();
    };
    let seen = 0;
    for await (const block of source.chunks()) {
      seen += block.length;
      if (seen > stats.samples) throw changedError(source.name, stats.samples, seen);
      audio.push(block);
      await take(await stream.push(block));
      audio.dropBefore(stream.keepFrom);
    }
    if (seen !== stats.samples) throw changedError(source.name, stats.samples, seen);
    await take(await stream.finish());
    await flush();
    progress?.advance(total - shown);
    progress?.finish();
    this.timings.audio += (performance.now() - t0) / 1000 - translateSeconds;
    if (count === 0) this.opts.warn?.(noSpeechMessage(file, stats, segmenter.name));
    sink.end(translations.join(" "));
    return { segments: count, duration };
  }
}

function changedError(name: string, first: number, second: number): InputError {
  return new InputError(name, `changed while it was being translated (${first} samples when first read, ${second > first ? "more" : second} the second time)`);
}

/** The samples of a stream from some point on, as they arrive in blocks. */
class HeldSamples {
  private blocks: Float32Array[] = [];
  /** Index of the first sample of blocks[0]. */
  private first = 0;

  push(block: Float32Array): void {
    this.blocks.push(block);
  }

  /** Forgets whole blocks before sample `index`. */
  dropBefore(index: number): void {
    while (this.blocks.length > 0 && this.first + this.blocks[0]!.length <= index) this.first += this.blocks.shift()!.length;
  }

  /** A copy of samples [start, end), which must still be held. */
  copy(start: number, end: number): Float32Array {
    if (start < this.first) throw new Error(`samples from ${start} on were let go (held from ${this.first}): internal error`);
    const out = new Float32Array(end - start);
    let at = this.first;
    for (const b of this.blocks) {
      const lo = Math.max(start, at);
      const hi = Math.min(end, at + b.length);
      if (hi > lo) out.set(b.subarray(lo - at, hi - at), lo - start);
      at += b.length;
      if (at >= end) break;
    }
    if (at < end) throw new Error(`samples up to ${end} asked for, ${at} arrived: internal error`);
    return out;
  }
}

/** The warning for an input in which `segmenter` found no speech: its name, length and levels. */
export function noSpeechMessage(input: string, stats: AudioStats, segmenter: string): string {
  const name = input === "-" ? "stdin" : input;
  const peak = stats.peakDbfs;
  const levels = stats.levels;
  const level = peak === -Infinity ? "digital silence" : `peak ${peak.toFixed(1)} dBFS, speech level ${levels.speechDb.toFixed(1)} dBFS RMS, noise floor ${levels.noiseDb.toFixed(1)} dBFS`;
  return `${name}: no speech found by the ${segmenter} segmenter in ${(stats.samples / SAMPLE_RATE).toFixed(1)} s of audio (${level}); nothing to translate`;
}

/**
 * Times for the tokens of an autoregressive translation, which has no alignment to the audio: they share the
 * stretch in which the auxiliary source CTC emits tokens (its first to last emitting frame; the whole segment
 * when it emits none) in equal parts, in order.
 */
export function spreadOverSpeech(ids: readonly number[], source: readonly CtcToken[], frames: number): CtcToken[] {
  const from = source.length > 0 ? source[0]!.start : 0;
  const to = source.length > 0 ? source[source.length - 1]!.end : frames;
  const width = (to - from) / Math.max(1, ids.length);
  return ids.map((id, i) => ({ id, start: from + i * width, end: from + (i + 1) * width }));
}
