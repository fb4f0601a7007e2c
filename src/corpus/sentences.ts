// Turning raw English text into clean, speakable, translatable sentences: normalise punctuation to
// ASCII, split into sentences, drop what a TTS engine or apertium would mangle (markup, code, ASCII art,
// very short or long lines), and deduplicate case- and punctuation-insensitively.

export interface SentenceFilter {
  minWords: number;
  maxWords: number;
  maxChars: number;
}

export const defaultFilter: SentenceFilter = { minWords: 3, maxWords: 30, maxChars: 200 };

// Abbreviations after which a period does not end a sentence.
const abbreviations = new Set([
  "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "mt", "ft", "co",
  "inc", "ltd", "gen", "col", "capt", "lt", "sgt", "rev", "gov", "sen", "rep", "u.s", "u.k", "a.m", "p.m",
]);

/** ASCII-fies typographic punctuation and collapses white space. */
export function normalizeText(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201a\u2032`]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"')
    .replace(/[\u2013\u2014\u2212]/g, " - ")
    .replace(/\u2026/g, "...")
    .replace(/\u00a0/g, " ")
    .replace(/[^\n]\u0008/g, "") // overstriking ("_\bA"): keep the character printed last
    .replace(/\s+/g, " ")
    .trim();
}

/** Splits running text into sentences at . ! ? followed by a capital, skipping common abbreviations. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const re = /[.!?]+["')]*\s+(?=["'(]?[A-Z0-9])/g;
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const before = text.slice(start, m.index);
    const lastWord = (before.split(" ").pop() ?? "").toLowerCase().replace(/^["'(]+/, "");
    const isInitial = /^[a-z]$/.test(lastWord);
    if (text[m.index] === "." && (abbreviations.has(lastWord) || isInitial)) continue;
    out.push(text.slice(start, m.index + m[0].length).trim());
    start = m.index + m[0].length;
  }
  const tail = text.slice(start).trim();
  if (tail) out.push(tail);
  return out;
}

/**
 * Cleans one candidate sentence; returns undefined if it is not a usable spoken sentence.
 * Parenthesised asides are removed (TTS engines skip the brackets, leaving transcripts that do not
 * match the audio); unbalanced quotes are removed; a final period is added when missing.
 */
export function cleanSentence(raw: string, filter: SentenceFilter = defaultFilter): string | undefined {
  let s = normalizeText(raw)
    .replace(/\([^()]*\)/g, " ")
    .replace(/\s+--\s+|\s+-\s+/g, ", ")
    .replace(/\s+([,;:.!?])/g, "$1")
    .replace(/,([,.;:!?])/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
  if ((s.match(/"/g)?.length ?? 0) % 2 === 1) s = s.replace(/"/g, "").trim();
  s = s.replace(/^[,;:\s]+/, "");
  // Only plain English prose: letters, digits, spaces and ordinary punctuation.
  if (!/^[A-Za-z0-9 ,.;:!?'"$%&-]+$/.test(s)) return undefined;
  if (!/[a-z]/.test(s)) return undefined; // all caps or no letters: headings, acronyms, numbers
  if (/(.)\1{3,}/.test(s)) return undefined; // "!!!!", "----", "zzzz"
  if (/\d{5,}/.test(s) || /[a-z]\d|\d[a-z]/i.test(s)) return undefined; // codes, versions
  if (/^[^A-Za-z"']/.test(s)) return undefined;
  s = s.replace(/^(["']?)([a-z])/, (_, q: string, c: string) => q + c.toUpperCase());
  if (!/[.!?]["']?$/.test(s)) s = s.replace(/[,;:]+$/, "") + ".";
  const words = s.split(" ").length;
  if (words < filter.minWords || words > filter.maxWords || s.length > filter.maxChars) return undefined;
  return s;
}

/** The key under which two sentences count as the same: lower case, letters and digits only. */
export function dedupeKey(sentence: string): string {
  return sentence.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
}

/** Keeps the first occurrence of each sentence (by dedupeKey), preserving order. */
export function dedupe(sentences: Iterable<string>, seen: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (const s of sentences) {
    const key = dedupeKey(s);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

/** Splits, cleans and filters a paragraph of text into usable sentences. */
export function sentencesOf(text: string, filter: SentenceFilter = defaultFilter): string[] {
  const out: string[] = [];
  for (const part of splitSentences(normalizeText(text))) {
    const s = cleanSentence(part, filter);
    if (s !== undefined) out.push(s);
  }
  return out;
}
