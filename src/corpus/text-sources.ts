// English text from Debian packages (public text, installed by apt) or from a file the user gives.
// fortunes (/usr/share/games/fortunes): entries separated by lines holding "%".
// wordnet-base (/usr/share/wordnet/data.*): each synset line ends with " | gloss"; the gloss holds a
// definition and, in double quotes, example sentences, separated by "; " (WordNet's wndb(5) format).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.ts";
import { sentencesOf, cleanSentence, dedupe, type SentenceFilter, defaultFilter } from "./sentences.ts";

export const fortunesDir = "/usr/share/games/fortunes";
export const wordnetDir = "/usr/share/wordnet";

/** A named pool of sentences; `kind` says whether it holds real sentences or definitions made into ones. */
export interface SentencePool {
  source: string;
  kind: "sentence" | "definition";
  sentences: string[];
}

/** Decodes UTF-8 strictly: a clear error naming the file and the line of the first bad byte. */
export function readUtf8(path: string): string {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new InputError(path, "is a directory, not a text file");
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot read: ${(err as Error).message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const line = firstBadUtf8Line(bytes);
    throw new InputError(path, `is not valid UTF-8 (first bad byte on line ${line}); convert it, e.g. iconv -f latin1 -t utf-8`);
  }
}

function firstBadUtf8Line(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      const chunk = bytes.subarray(start, i);
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(chunk);
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/** Sentences of a user's text file: one paragraph per line (long lines are split into sentences). */
export function userTextPool(path: string, filter: SentenceFilter = defaultFilter): SentencePool {
  const text = readUtf8(path);
  if (text.trim() === "") throw new InputError(path, "is empty; give a UTF-8 file of English sentences, one or more per line");
  const sentences = dedupe(text.split(/\r?\n/).flatMap((line) => sentencesOf(line, filter)));
  if (sentences.length === 0) {
    throw new InputError(
      path,
      `holds no usable English sentence (${filter.minWords}-${filter.maxWords} words of plain ASCII prose per sentence); check the file`,
    );
  }
  return { source: path, kind: "sentence", sentences };
}

/** Sentences of every fortune file (Debian packages fortunes, fortunes-min). */
export function fortunePool(dir = fortunesDir, filter: SentenceFilter = defaultFilter): SentencePool {
  const sentences: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.includes(".")) continue; // .dat indexes and .u8 links
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    // The files are ASCII or Latin-1; non-ASCII sentences are filtered out anyway.
    const text = readFileSync(path, "latin1");
    for (const entry of text.split(/\r?\n%\r?\n/)) {
      // Attribution lines ("-- Mark Twain") and indented verse/dialogue markers are not prose.
      const prose = entry
        .split(/\r?\n/)
        .filter((l) => !/^\s*(--|- [A-Z])/.test(l) && !/^\s*[A-Z][a-z]*:/.test(l))
        .join(" ");
      sentences.push(...sentencesOf(prose, filter));
    }
  }
  return { source: "fortunes", kind: "sentence", sentences };
}

/** WordNet example sentences and definitions, from data.noun/verb/adj/adv. */
export function wordnetPools(dir = wordnetDir, filter: SentenceFilter = defaultFilter): SentencePool[] {
  const examples: string[] = [];
  const definitions: string[] = [];
  for (const pos of ["noun", "verb", "adj", "adv"]) {
    const path = join(dir, `data.${pos}`);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!/^\d{8} /.test(line)) continue; // license header lines start with two spaces
      const bar = line.indexOf(" | ");
      if (bar < 0) continue;
      for (const part of line.slice(bar + 3).split(/;\s*/)) {
        const p = part.trim();
        const quoted = /^"([^"]+)"/.exec(p);
        if (quoted) {
          const s = cleanSentence(quoted[1]!, filter);
          if (s !== undefined) examples.push(s);
        } else if (p) {
          const s = cleanSentence(p, filter);
          if (s !== undefined) definitions.push(s);
        }
      }
    }
  }
  return [
    { source: "wordnet-examples", kind: "sentence", sentences: examples },
    { source: "wordnet-glosses", kind: "definition", sentences: definitions },
  ];
}

/** All Debian text sources found on this machine; a clear error if none is installed. */
export function debianPools(filter: SentenceFilter = defaultFilter): SentencePool[] {
  const pools: SentencePool[] = [];
  if (existsSync(fortunesDir)) pools.push(fortunePool(fortunesDir, filter));
  if (existsSync(join(wordnetDir, "data.noun"))) pools.push(...wordnetPools(wordnetDir, filter));
  if (pools.length === 0) {
    throw new InputError(
      `${fortunesDir}, ${wordnetDir}`,
      "no English text found; install the Debian packages fortunes and wordnet-base, or give --text FILE",
    );
  }
  return pools;
}
