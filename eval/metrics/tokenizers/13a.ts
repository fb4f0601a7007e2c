// mteval-v13a tokenization, sacreBLEU's default (tokenizers/tokenizer_13a.py; docs/design.md §7.4).
import { tokenizeRegexp } from "./regexp.ts";

export function tokenize13a(line: string): string {
  line = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (line.includes("&")) {
    // In this order, as sacreBLEU: "&amp;lt;" becomes "&lt;" and then "<".
    line = line.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  }
  // The surrounding spaces let a final "2019." lose its period (intl and zh keep it).
  return tokenizeRegexp(` ${line} `);
}
