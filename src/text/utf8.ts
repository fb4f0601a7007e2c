// UTF-8 helpers with SentencePiece's exact semantics (src/util.h, util.cc): the character length is
// read from the lead byte alone, and a sequence is valid when it decodes to a code point that is
// neither a surrogate nor overlong nor > U+10FFFF (a literal U+FFFD counts as valid).

const ONE_CHAR_LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];

/** SentencePiece's OneCharLen: 1 for ASCII and stray continuation bytes, else from the lead byte. */
export function oneCharLen(leadByte: number): number {
  return ONE_CHAR_LEN[leadByte >> 4]!;
}

function isTrail(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

function isValidCodepoint(c: number): boolean {
  return c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);
}

/**
 * Decodes one character at `pos` (bytes before `end`). Returns its code point and length, or
 * code point −1 with length 1 for a malformed sequence (string_util::IsValidDecodeUTF8 false).
 */
export function decodeUtf8Char(bytes: Uint8Array, pos: number, end: number): { cp: number; len: number } {
  const b0 = bytes[pos]!;
  const avail = end - pos;
  if (b0 < 0x80) return { cp: b0, len: 1 };
  if (avail >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = bytes[pos + 1]!;
    const cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
    if (isTrail(b1) && cp >= 0x80 && isValidCodepoint(cp)) return { cp, len: 2 };
  } else if (avail >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp)) return { cp, len: 3 };
  } else if (avail >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const b3 = bytes[pos + 3]!;
    const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp)) return { cp, len: 4 };
  }
  return { cp: -1, len: 1 };
}

export const utf8Encoder = new TextEncoder();
export const utf8Decoder = new TextDecoder("utf-8");
