// Chinese tokenization (sacreBLEU tokenizers/tokenizer_zh.py; docs/design.md §7.4): surround every character of
// the listed ranges with spaces, then apply the 13a regular expressions (without 13a's entity unescaping,
// <skipped> removal and surrounding spaces).
import { pyStrip } from "../python.ts";
import { tokenizeRegexp } from "./regexp.ts";

/**
 * Inclusive code-point ranges that count as "Chinese" characters. sacreBLEU writes two of its ranges as
 * '\u20000'..'\u2a6d6' and '\u2f800'..'\u2fa1d'; Python reads '\u20000' as U+2000 followed by '0', and compares
 * one character against these two-character strings, so what actually matches is U+2001..U+2A6D (general
 * punctuation such as — ‘ ’ “ „ … €, arrows, maths symbols) and U+2F81..U+2FA1. We reproduce what sacreBLEU
 * does, not what its comment says: the real Extension B characters (U+20000..) are NOT split.
 */
const RANGES: [number, number][] = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fa5],
  [0x9fa6, 0x9fbb],
  [0xf900, 0xfa2d],
  [0xfa30, 0xfa6a],
  [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], // written (u'\u20000', u'\u2a6d6') in sacreBLEU, see above
  [0x2f81, 0x2fa1], // written (u'\u2f800', u'\u2fa1d') in sacreBLEU, see above
  [0xff00, 0xffef],
  [0x2e80, 0x2eff],
  [0x3000, 0x303f],
  [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf],
  [0x2ff0, 0x2fff],
  [0x3100, 0x312f],
  [0x31a0, 0x31bf],
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

/** One character class built from RANGES, so the test is a single regex per character. */
const CHINESE = new RegExp(
  `[${RANGES.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join("")}]`,
  "gu",
);

export function tokenizeZh(line: string): string {
  return tokenizeRegexp(pyStrip(line).replace(CHINESE, " $& "));
}
