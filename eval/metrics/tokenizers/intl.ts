// mteval-v14 "international" tokenization (sacreBLEU tokenizers/tokenizer_intl.py; docs/design.md §7.4):
// split punctuation (Unicode category P) not preceded by / not followed by a number (category N), and every
// symbol (category S). No entity unescaping and no surrounding spaces, so "in 2019." keeps its period, a
// quirk of mteval-v14 that sacreBLEU keeps on purpose.
import { pyNormalizeSpaces } from "../python.ts";

// sacreBLEU uses the `regex` module, whose Unicode tables (regex 2026.9.29) are newer than V8's in Node 20:
// these code points are P, S or N there but unassigned for V8 (found by comparing all code points).
const EXTRA_P = "\\u{2E60}-\\u{2E63}";
const EXTRA_S =
  "\\u{20C2}-\\u{20C4}\\u{10EC9}-\\u{10ECA}\\u{1CED2}-\\u{1CED4}\\u{1CEDD}-\\u{1CEDF}\\u{1CEF1}-\\u{1CEFD}" +
  "\\u{1D1EB}-\\u{1D1FF}\\u{1D253}-\\u{1D25A}\\u{1D25D}-\\u{1D25E}\\u{1D260}-\\u{1D27F}\\u{1DB00}-\\u{1DB1C}" +
  "\\u{1F1AE}\\u{1F6D9}\\u{1F7DA}-\\u{1F7DB}\\u{1F7F1}-\\u{1F7FF}\\u{1FA8B}-\\u{1FA8D}\\u{1FACC}\\u{1FADD}" +
  "\\u{1FAEB}\\u{1FAF9}-\\u{1FAFA}";
const EXTRA_N = "\\u{1246F}\\u{12475}-\\u{1247F}\\u{12550}-\\u{12686}";

const P = `[\\p{P}${EXTRA_P}]`;
const S = `[\\p{S}${EXTRA_S}]`;
const NOT_N = `[^\\p{N}${EXTRA_N}]`;

const RULES: [RegExp, string][] = [
  [new RegExp(`(${NOT_N})(${P})`, "gu"), "$1 $2 "],
  [new RegExp(`(${P})(${NOT_N})`, "gu"), " $1 $2"],
  [new RegExp(`(${S})`, "gu"), " $1 "],
];

export function tokenizeIntl(line: string): string {
  for (const [pattern, replacement] of RULES) line = line.replace(pattern, replacement);
  return pyNormalizeSpaces(line);
}
