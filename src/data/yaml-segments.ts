// The MuST-C segment list: a YAML sequence of one-line flow mappings, e.g.
//   - {duration: 3.500000, offset: 16.090000, rW: 9, uW: 0, speaker_id: spk.767, wav: ted_767.wav}
// A line parser (fast on 270k-line files) that keeps values as strings, like fairseq's
// yaml.BaseLoader, ignores unknown keys (v2 adds rW/uW) and names file:line for anything else.
import { readFileSync } from "node:fs";
import { InputError } from "../util/errors.ts";

export interface YamlSegment {
  duration: string;
  offset: string;
  speaker: string;
  wav: string;
  line: number;
}

const ITEM = /^-\s*\{(.*)\}\s*$/;
const NUMBER = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"')))) return v.slice(1, -1);
  return v;
}

export function readSegmentYaml(path: string): YamlSegment[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(path, "no such file (expected the MuST-C segment list <split>.yaml)");
    if (code !== undefined) throw new InputError(path, `cannot read it (${code})`);
    throw new InputError(path, "is not valid UTF-8");
  }
  const out: YamlSegment[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, "");
    const line = n + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed === "---" || trimmed === "...") continue;
    const where = `${path}:${line}`;
    const m = ITEM.exec(trimmed);
    if (!m) {
      throw new InputError(where, `malformed segment line ${JSON.stringify(raw.slice(0, 120))}: expected "- {duration: D, offset: O, speaker_id: S, wav: W.wav}"`);
    }
    const fields = new Map<string, string>();
    for (const part of m[1]!.split(",")) {
      const colon = part.indexOf(":");
      if (colon < 0) throw new InputError(where, `malformed field ${JSON.stringify(part.trim())} (expected key: value)`);
      fields.set(part.slice(0, colon).trim(), unquote(part.slice(colon + 1).trim()));
    }
    const get = (key: string): string => {
      const v = fields.get(key);
      if (v === undefined || v === "") throw new InputError(where, `segment has no ${key}`);
      return v;
    };
    const duration = get("duration");
    const offset = get("offset");
    for (const [key, v] of [["duration", duration], ["offset", offset]] as const) {
      if (!NUMBER.test(v)) throw new InputError(where, `${key} ${JSON.stringify(v)} is not a non-negative number of seconds`);
    }
    const wav = get("wav");
    if (wav.includes("/") || wav.includes("\\") || wav === "." || wav === "..") {
      throw new InputError(where, `wav ${JSON.stringify(wav)} must be a file name inside the split's wav/ folder`);
    }
    out.push({ duration, offset, speaker: fields.get("speaker_id") ?? "", wav, line });
  }
  return out;
}
