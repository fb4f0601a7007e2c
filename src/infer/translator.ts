// `nast translate`'s translator: the work is ./segment-translator.ts's (no node:* imports, shared with the
// browser page, src/web); this module adds audio files of any format (src/audio/decode.ts) and the progress
// bar. Audio → segments → features → batched network → CTC decoding → text with times (docs/design.md
// §4.1). Long audio is cut at pauses (≤ ~20 s per segment) by a segmenter (./vad.ts: Silero VAD,
// or the energy segmenter of src/audio/segment.ts, the default here). An input is read twice, as a
// stream both times: a first pass measures its length and levels (what the segmenters need of the whole
// recording), the second cuts it as it goes by, gathers the segments in a window (at most WINDOW_SEGMENTS
// or WINDOW_SECONDS of audio), sorts the window by length into batches, translates it, and hands the
// results in time order to a sink (the writers), so memory does not grow with the input's length: it
// holds the window, the audio of the segment being cut, one batch, and the text of the translation.
// Timings per stage are accumulated for `nast bench infer` (both passes and segmentation count as audio).
// The input level hardly matters to the model, so quiet audio is not normalised: a gain g adds 2·ln g
// to every log-mel energy of every frame, and utterance CMVN subtracts the per-bin mean, so features
// are the same at any level, except where mel energies fall under the fbank's floor (float32 epsilon
// on the int16 scale): digital silence (exact zeros, which synthetic audio has), and the lowest bins
// of a very quiet noise floor. A 16-bit recording at -52 dBFS peak still translates nearly as at full
// level (test/infer/vad.test.ts).
import { basename } from "node:path";
import { openAudioSource, type AudioSource } from "../audio/decode.ts";
import type { AudioStats } from "../audio/segment.ts";
import { Progress } from "../util/progress.ts";
import type { FileResult, ResultSink, SegmentResult } from "./result-formats.ts";
import { SegmentTranslator, type ProgressSink } from "./segment-translator.ts";

/** An input opened and read through once (the first pass), waiting for its second. */
interface Measured {
  source: AudioSource;
  stats: AudioStats;
}

/** SegmentTranslator on audio files of any format (src/audio/decode.ts), with a progress bar on stderr. */
export class Translator extends SegmentTranslator {
  /** First passes begun ahead of their input's turn (prefetch), by input. */
  private readonly ahead = new Map<string, Promise<Measured>>();

  /** Decodes, segments and translates one audio input (a path, or "-" for stdin), the whole result at once. */
  async translateFile(input: string, modelName: string): Promise<FileResult> {
    let header: Pick<FileResult, "file" | "duration" | "model"> | undefined;
    const segments: SegmentResult[] = [];
    let translation = "";
    await this.translateStream(input, modelName, {
      begin: (h) => (header = { file: h.file, duration: h.duration, model: h.model }),
      segment: (s) => void segments.push(s),
      end: (t) => (translation = t),
    });
    return { ...header!, segments, translation };
  }

  /**
   * Begins `input`'s first pass (opening it, decoding it once to measure its length and levels) now, so
   * that it runs while the network works on the input before it: onnxruntime computes on its own threads
   * and ffmpeg in its own process, which leaves this thread free for the next input's decoding and
   * metering meanwhile. translateStream(input) then starts with the second pass; a failure of the first
   * waits for it too, so that it is reported in the input's turn.
   */
  prefetch(input: string): void {
    if (this.ahead.has(input)) return;
    const measured = this.openMeasured(input);
    measured.catch(() => {});
    this.ahead.set(input, measured);
  }

  /** Drops the first pass begun for `input` when its turn ended without it (e.g. its output could not be created). */
  async discard(input: string): Promise<void> {
    const ahead = this.ahead.get(input);
    this.ahead.delete(input);
    if (ahead) await ahead.then((m) => m.source.close(), () => {});
  }

  /**
   * Decodes, segments and translates one audio input (a path, or "-" for stdin), streaming: `sink`
   * gets the header once the input has been read through (its first pass; a bad input fails before),
   * then each segment as soon as it is translated, in time order, then the whole translation.
   */
  async translateStream(input: string, modelName: string, sink: ResultSink): Promise<{ segments: number; duration: number }> {
    const ahead = this.ahead.get(input);
    this.ahead.delete(input);
    const { source, stats } = await (ahead ?? this.openMeasured(input));
    try {
      return await this.translateSource(source, input, modelName, sink, this.progressBar(input), stats);
    } finally {
      await source.close();
    }
  }

  private async openMeasured(input: string): Promise<Measured> {
    const t0 = performance.now();
    const source = await openAudioSource(input, { sampleRate: 16000 });
    this.timings.audio += (performance.now() - t0) / 1000;
    try {
      return { source, stats: await this.measure(source) };
    } catch (err) {
      await source.close();
      throw err;
    }
  }

  /** A bar on stderr (on a TTY, for long inputs, unless the progress option says otherwise). */
  private progressBar(input: string): ProgressSink {
    let bar: Progress | undefined;
    return {
      start: (total, long) => {
        bar = new Progress({ total, label: input === "-" ? "stdin" : basename(input), unit: " s", enabled: this.opts.progress ?? (Boolean(process.stderr.isTTY) && long) });
      },
      advance: (seconds) => bar?.tick(seconds),
      finish: () => bar?.finish(),
    };
  }
}
