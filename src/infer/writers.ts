// Output formats of `nast translate` (conventions of whisper.cpp's cli, ../shared/reference/ecosystem.md
// §5.2): txt, json, srt (HH:MM:SS,mmm) and vtt (WEBVTT, HH:MM:SS.mmm). Subtitle cues come from the
// segments (cut at pauses), so they never overlap and follow the audio; empty translations get no cue.
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
  return r.segments.map((s) => oneLine(s.translation)).filter((t) => t.length > 0).map((t) => `${t}\n`).join("");
}

export function toJson(r: FileResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function toSrt(r: FileResult): string {
  return cues(r)
    .map((c, i) => `${i + 1}\n${timestamp(c.start, ",")} --> ${timestamp(c.end, ",")}\n${c.text}\n\n`)
    .join("");
}

export function toVtt(r: FileResult): string {
  return `WEBVTT\n\n${cues(r)
    .map((c) => `${timestamp(c.start, ".")} --> ${timestamp(c.end, ".")}\n${c.text}\n\n`)
    .join("")}`;
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
 * starting no earlier than the previous one ends.
 */
function cues(r: FileResult): Cue[] {
  const limit = Math.floor(r.duration * 1000);
  const out: Cue[] = [];
  let prevEnd = 0;
  for (const s of [...r.segments].sort((a, b) => a.start - b.start)) {
    const text = oneLine(s.translation);
    if (text.length === 0) continue;
    let start = Math.max(prevEnd, Math.min(limit, Math.round(s.start * 1000)));
    let end = Math.min(limit, Math.round(s.end * 1000));
    if (end <= start) {
      if (start >= limit) start = Math.max(prevEnd, limit - 1);
      end = Math.min(limit, start + 1);
    }
    if (end <= start) {
      // No room left before the end of the audio: the text joins the previous cue rather than vanish.
      const last = out[out.length - 1];
      if (last) last.text = `${last.text} ${text}`;
      continue;
    }
    out.push({ start, end, text });
    prevEnd = end;
  }
  return out;
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
