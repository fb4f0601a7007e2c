// TER's tokenizer, sacreBLEU's re-implementation of Tercom's Normalizer.java (tokenizers/tokenizer_ter.py;
// docs/design.md §7.4). The Asian rules are kept character for character, including their odd patterns
// (e.g. "(^|^[...])" and the range U+3200–U+3F22), because sacreBLEU's numbers depend on them.
import { pyLower, pyNormalizeSpaces } from "../python.ts";

export interface TerTokenizerOptions {
  normalized?: boolean;
  noPunct?: boolean;
  asianSupport?: boolean;
  caseSensitive?: boolean;
}

const ASIAN_PUNCT = /([\u3001\u3002\u3008-\u3011\u3014-\u301f\uff61-\uff65\u30fb])/gu;
const FULL_WIDTH_PUNCT = /([\uff0e\uff0c\uff1f\uff1a\uff1b\uff01\uff02\uff08\uff09])/gu;

function normalizeGeneralAndWestern(sent: string): string {
  // language-independent part: end-of-line hyphenation, line joins, XML entities
  sent = sent.replaceAll("\n-", "").replaceAll("\n", " ");
  sent = sent.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  // Western part
  sent = ` ${sent} `;
  sent = sent.replace(/([{-~[-` -&(-+:-@/])/gu, " $1 ");
  // possessives (the sentence ends with a space here, so the second rule cannot fire; kept as sacreBLEU has it)
  sent = sent.replace(/'s /gu, " 's ");
  sent = sent.replace(/'s$/u, " 's");
  sent = sent.replace(/([^0-9])([.,])/gu, "$1 $2 ");
  sent = sent.replace(/([.,])([^0-9])/gu, " $1 $2");
  sent = sent.replace(/([0-9])(-)/gu, "$1 $2 ");
  return sent;
}

function normalizeAsian(sent: string): string {
  // CJK Unified Ideographs (4E00–9FFF) and Extension A (3400–4DBF)
  sent = sent.replace(/([\u4e00-\u9fff\u3400-\u4dbf])/gu, " $1 ");
  // CJK Strokes (31C0–31EF), CJK Radicals Supplement (2E80–2EFF)
  sent = sent.replace(/([\u31c0-\u31ef\u2e80-\u2eff])/gu, " $1 ");
  // CJK Compatibility (3300–33FF), Compatibility Ideographs (F900–FAFF), Compatibility Forms (FE30–FE4F)
  sent = sent.replace(/([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])/gu, " $1 ");
  // Enclosed CJK Letters and Months — sacreBLEU's range runs to U+3F22
  sent = sent.replace(/([\u3200-\u3f22])/gu, " $1 ");
  // Hiragana, Katakana, Katakana Phonetic Extensions "only when adjacent to something else": as written in
  // sacreBLEU these patterns can only match a whole string of such characters.
  sent = sent.replace(/(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])/gu, "$1 $2 ");
  sent = sent.replace(/(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])/gu, "$1 $2 ");
  sent = sent.replace(/(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])/gu, "$1 $2 ");
  sent = sent.replace(ASIAN_PUNCT, " $1 ");
  sent = sent.replace(FULL_WIDTH_PUNCT, " $1 ");
  return sent;
}

export function terTokenize(sent: string, options: TerTokenizerOptions = {}): string {
  if (!sent) return "";
  if (!options.caseSensitive) sent = pyLower(sent);
  if (options.normalized) {
    sent = normalizeGeneralAndWestern(sent);
    if (options.asianSupport) sent = normalizeAsian(sent);
  }
  if (options.noPunct) {
    sent = sent.replace(/[.,?:;!"()]/gu, "");
    if (options.asianSupport) sent = sent.replace(ASIAN_PUNCT, "").replace(FULL_WIDTH_PUNCT, "");
  }
  return pyNormalizeSpaces(sent);
}
