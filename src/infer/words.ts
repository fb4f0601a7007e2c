// From CTC tokens (ids + frame spans) to text with times: the segment's text, and words, where a
// word is a run of SentencePiece pieces that starts with a piece beginning with "▁" (the piece that
// carries the preceding space; docs/design.md §7.3).
import type { CtcToken } from "./ctc.ts";

const SPACE = "\u2581";

/** What decoding needs of a SentencePiece model (src/text/sentencepiece.ts implements it). */
export interface PieceDecoder {
  decode(ids: number[]): string;
  idToPiece(id: number): string;
}

export interface TimedWord {
  word: string;
  /** Seconds from the start of the audio file. */
  start: number;
  end: number;
}

/**
 * Groups tokens into words. `frameSeconds` is the duration of one output frame (40 ms after the 4×
 * subsampler); `offset` the time of the segment's first frame in the file.
 */
export function tokensToWords(tokens: readonly CtcToken[], sp: PieceDecoder, frameSeconds: number, offset: number): TimedWord[] {
  const words: TimedWord[] = [];
  let group: CtcToken[] = [];
  const flush = (): void => {
    if (group.length === 0) return;
    const word = sp.decode(group.map((t) => t.id)).trim();
    if (word.length > 0) {
      words.push({ word, start: round3(offset + group[0]!.start * frameSeconds), end: round3(offset + group[group.length - 1]!.end * frameSeconds) });
    }
    group = [];
  };
  for (const tok of tokens) {
    if (sp.idToPiece(tok.id).startsWith(SPACE)) flush();
    group.push(tok);
  }
  flush();
  return words;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
