// Output formats of `nast translate` (conventions of whisper.cpp's cli, ggml-org/whisper.cpp
// examples/cli/cli.cpp; docs/design.md §7.7): txt, json, srt (HH:MM:SS,mmm) and vtt (WEBVTT, HH:MM:SS.mmm).
// Subtitle cues come from the segments (cut at pauses), so they never overlap and follow the audio; empty
// translations get no cue.
//
// Every format is also written as a stream (resultWriter): the header of a result first, then its
// segments one by one as they are translated, then its whole translation, with the same bytes as the
// renderings of the whole result. No node:* imports: the browser page (src/web) downloads the same bytes;
// files on disk are ./writers.ts's.
import type { TimedWord } from "./words.ts";

export interface SegmentResult {
  /** Seconds from the start of the file. */
  start: number;
  end: number;
  /** Transcript from the source CTC head. */
  source: string;
  translation: string;
  words?: TimedWord[];
}

export interface FileResult {
  file: string;
  /** Seconds. */
  duration: number;
  /** The model directory (or its name). */
  model: string;
  segments: SegmentResult[];
  translation: string;
}

export const FORMATS = ["txt", "json", "srt", "vtt"] as const;
export type Format = (typeof FORMATS)[number];

/** Joins segment translations into the file's translation (one line). */
export function joinTranslations(segments: readonly SegmentResult[]): string {
  return segments
    .map((s) => s.translation.trim())
    .filter((t) => t.length > 0)
    .join(" ");
}

/** txt: one line per segment (whisper.cpp -otxt). */
export function toTxt(r: FileResult): string {
  return renderStream("txt", r);
}

export function toJson(r: FileResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function toSrt(r: FileResult): string {
  return renderStream("srt", r);
}

export function toVtt(r: FileResult): string {
  return renderStream("vtt", r);
}

export function render(format: Format, r: FileResult): string {
  switch (format) {
    case "txt":
      return toTxt(r);
    case "json":
      return toJson(r);
    case "srt":
      return toSrt(r);
    case "vtt":
      return toVtt(r);
  }
}

/** A whole result through the streaming writer (subtitles take the segments in time order). */
function renderStream(format: Format, r: FileResult): string {
  let out = "";
  const w = resultWriter(format, (text) => void (out += text));
  w.begin(r);
  const segments = format === "srt" || format === "vtt" ? [...r.segments].sort((a, b) => a.start - b.start) : r.segments;
  for (const s of segments) w.segment(s);
  w.end(r.translation);
  return out;
}

/** What is known of a result before its first segment. */
export interface ResultHeader {
  file: string;
  duration: number;
  model: string;
}

/** Receives one result as it is made: begin, its segments in time order, end with the whole translation. */
export interface ResultSink {
  begin(header: ResultHeader): void;
  segment(segment: SegmentResult): void;
  end(translation: string): void;
}

export interface WriterOptions {
  /** json: prefix of every line (an element of an array: "  "); default none. */
  indent?: string;
  /** json: what follows the closing brace (default "\n"; "" inside an array). */
  trailer?: string;
}

/**
 * A streaming writer of `format`: what render() makes of the whole result, written piece by piece
 * through `write` (subtitle segments must come in time order, as the translator gives them). json with
 * `indent` "  " and `trailer` "" is one element of JSON.stringify([…], null, 2).
 */
export function resultWriter(format: Format, write: (text: string) => void, opts: WriterOptions = {}): ResultSink {
  switch (format) {
    case "txt":
      return {
        begin: () => {},
        segment: (s) => {
          const t = oneLine(s.translation);
          if (t.length > 0) write(`${t}\n`);
        },
        end: () => {},
      };
    case "json":
      return new JsonWriter(write, opts.indent ?? "", opts.trailer ?? "\n");
    case "srt":
    case "vtt":
      return new CueWriter(write, format);
  }
}

/** Writes to several sinks. */
export function teeSink(sinks: readonly ResultSink[]): ResultSink {
  return {
    begin: (h) => sinks.forEach((k) => k.begin(h)),
    segment: (s) => sinks.forEach((k) => k.segment(s)),
    end: (t) => sinks.forEach((k) => k.end(t)),
  };
}

/** JSON.stringify(result, null, 2), written as the result is made (the keys in FileResult's order). */
class JsonWriter implements ResultSink {
  private count = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly indent: string,
    private readonly trailer: string,
  ) {}

  begin(h: ResultHeader): void {
    const i = this.indent;
    const field = (key: string, value: unknown): string => `${i}  ${JSON.stringify(key)}: ${JSON.stringify(value)},\n`;
    this.write(`${i}{\n${field("file", h.file)}${field("duration", h.duration)}${field("model", h.model)}${i}  "segments": `);
  }

  segment(s: SegmentResult): void {
    const pad = `${this.indent}    `;
    this.write(`${this.count++ === 0 ? "[\n" : ",\n"}${pad}${JSON.stringify(s, null, 2).replace(/\n/g, `\n${pad}`)}`);
  }

  end(translation: string): void {
    const i = this.indent;
    this.write(`${this.count === 0 ? "[]" : `\n${i}  ]`},\n${i}  "translation": ${JSON.stringify(translation)}\n${i}}${this.trailer}`);
  }
}

interface Cue {
  start: number;
  end: number;
  text: string;
}

/** Subtitle text may not contain blank lines (they end a cue) nor "-->" (VTT cue settings). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/-->/g, "->").trim();
}

/**
 * Cues in time order, clamped to [0, duration] in whole milliseconds, each at least 1 ms long and
 * starting no earlier than the previous one ends. The last cue is held back until the next segment,
 * whose text joins it when there is no room left before the end of the audio.
 */
class CueWriter implements ResultSink {
  private limit = 0;
  private prevEnd = 0;
  private held: Cue | null = null;
  private index = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly format: "srt" | "vtt",
  ) {}

  begin(h: ResultHeader): void {
    this.limit = Math.floor(h.duration * 1000);
    if (this.format === "vtt") this.write("WEBVTT\n\n");
  }

  segment(s: SegmentResult): void {
    const limit = this.limit;
    const text = oneLine(s.translation);
    if (text.length === 0) return;
    let start = Math.max(this.prevEnd, Math.min(limit, Math.round(s.start * 1000)));
    let end = Math.min(limit, Math.round(s.end * 1000));
    if (end <= start) {
      if (start >= limit) start = Math.max(this.prevEnd, limit - 1);
      end = Math.min(limit, start + 1);
    }
    if (end <= start) {
      // No room left before the end of the audio: the text joins the previous cue rather than vanish.
      if (this.held) this.held.text = `${this.held.text} ${text}`;
      return;
    }
    this.flush();
    this.held = { start, end, text };
    this.prevEnd = end;
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    const c = this.held;
    if (c === null) return;
    this.held = null;
    if (this.format === "srt") this.write(`${++this.index}\n${timestamp(c.start, ",")} --> ${timestamp(c.end, ",")}\n${c.text}\n\n`);
    else this.write(`${timestamp(c.start, ".")} --> ${timestamp(c.end, ".")}\n${c.text}\n\n`);
  }
}

/** HH:MM:SS<sep>mmm from milliseconds. */
export function timestamp(ms: number, sep: "," | "."): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const milli = ms % 1000;
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(h)}:${p(m)}:${p(s)}${sep}${p(milli, 3)}`;
}
