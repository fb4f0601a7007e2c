// Validators of SRT and WebVTT files (test support): cue syntax, timestamps increasing, cues within
// the audio's duration. Throws with the offending line.

export interface ParsedCue {
  start: number;
  end: number;
  text: string;
}

function seconds(h: string, m: string, s: string, ms: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

function checkOrder(cues: ParsedCue[], duration: number, what: string): void {
  let prevEnd = 0;
  for (const [i, c] of cues.entries()) {
    if (!(c.start < c.end)) throw new Error(`${what} cue ${i + 1}: start ${c.start} is not before end ${c.end}`);
    if (c.start < prevEnd) throw new Error(`${what} cue ${i + 1}: starts at ${c.start}, before the previous cue ends (${prevEnd})`);
    if (c.end > duration + 1e-9) throw new Error(`${what} cue ${i + 1}: ends at ${c.end}, after the audio (${duration} s)`);
    if (c.text.trim().length === 0) throw new Error(`${what} cue ${i + 1}: empty text`);
    prevEnd = c.end;
  }
}

export function parseSrt(text: string, duration: number): ParsedCue[] {
  if (text.length === 0) return [];
  if (!text.endsWith("\n\n")) throw new Error("srt: the file must end with a blank line");
  const blocks = text.slice(0, -2).split("\n\n");
  const cues = blocks.map((block, i) => {
    const lines = block.split("\n");
    if (lines[0] !== String(i + 1)) throw new Error(`srt block ${i + 1}: index line '${lines[0]}'`);
    const m = /^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$/.exec(lines[1] ?? "");
    if (!m) throw new Error(`srt block ${i + 1}: timing line '${lines[1]}'`);
    if (lines.length < 3) throw new Error(`srt block ${i + 1}: no text`);
    return { start: seconds(m[1]!, m[2]!, m[3]!, m[4]!), end: seconds(m[5]!, m[6]!, m[7]!, m[8]!), text: lines.slice(2).join("\n") };
  });
  checkOrder(cues, duration, "srt");
  return cues;
}

export function parseVtt(text: string, duration: number): ParsedCue[] {
  if (!text.startsWith("WEBVTT\n\n")) throw new Error("vtt: must start with 'WEBVTT' and a blank line");
  const body = text.slice("WEBVTT\n\n".length);
  if (body.length === 0) return [];
  if (!body.endsWith("\n\n")) throw new Error("vtt: the file must end with a blank line");
  const cues = body
    .slice(0, -2)
    .split("\n\n")
    .map((block, i) => {
      const lines = block.split("\n");
      const m = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(lines[0] ?? "");
      if (!m) throw new Error(`vtt cue ${i + 1}: timing line '${lines[0]}'`);
      if (lines.length < 2) throw new Error(`vtt cue ${i + 1}: no text`);
      const cueText = lines.slice(1).join("\n");
      if (cueText.includes("-->")) throw new Error(`vtt cue ${i + 1}: text contains '-->'`);
      return { start: seconds(m[1]!, m[2]!, m[3]!, m[4]!), end: seconds(m[5]!, m[6]!, m[7]!, m[8]!), text: cueText };
    });
  checkOrder(cues, duration, "vtt");
  return cues;
}
