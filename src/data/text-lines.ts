// Reads a text file as strictly UTF-8 lines, as fairseq reads MuST-C transcripts (one segment per
// line, each line strip()ped). An invalid byte sequence is an InputError naming the file and line.
import { readFileSync } from "node:fs";
import { decodeUtf8Char } from "../text/utf8.ts";
import { InputError } from "../util/errors.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function readUtf8Lines(path: string): string[] {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a text file" : `cannot read it (${code ?? String(err)})`);
  }
  const lines: string[] = [];
  let start = 0;
  let lineNo = 1;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    let text: string;
    try {
      text = strictUtf8.decode(buf.subarray(start, end));
    } catch {
      const bad = firstInvalidByte(buf.subarray(start, end));
      throw new InputError(
        `${path}:${lineNo}`,
        `is not valid UTF-8 (byte 0x${buf[start + bad]!.toString(16).padStart(2, "0")} at column ${bad + 1}); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8`,
      );
    }
    lines.push(text.trim());
    start = end + 1;
    lineNo++;
  }
  return lines;
}

/** Offset of the first byte of the first malformed sequence (for the error message). */
function firstInvalidByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const { cp, len } = decodeUtf8Char(bytes, i, bytes.length);
    if (cp < 0) return i;
    i += len;
  }
  return 0;
}
