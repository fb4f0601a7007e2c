// The mteval-v13a regular-expression tokenization that the 13a and zh tokenizers share
// (sacreBLEU tokenizers/tokenizer_re.py; docs/design.md §7.4). The patterns are pure ASCII, so JavaScript's
// replace with the g flag has the same global, left-to-right, non-overlapping semantics as Python's re.sub.
import { pyNormalizeSpaces } from "../python.ts";

const RULES: [RegExp, string][] = [
  // ASCII punctuation and symbols: the ranges {-~, [-`, space-&, (-+, :-@ and /.
  [/([{-~[-` -&(-+:-@/])/gu, " $1 "],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, "$1 $2 "],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, " $1 $2"],
  // dash when preceded by a digit
  [/([0-9])(-)/gu, "$1 $2 "],
];

export function tokenizeRegexp(line: string): string {
  for (const [pattern, replacement] of RULES) line = line.replace(pattern, replacement);
  return pyNormalizeSpaces(line);
}
