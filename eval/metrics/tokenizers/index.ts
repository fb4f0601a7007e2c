// BLEU's tokenizers by name, as sacreBLEU's `-tok` knows them (metrics/bleu.py _TOKENIZERS). The mecab and
// SentencePiece tokenizers need external models and are not provided.
import { tokenize13a } from "./13a.ts";
import { tokenizeChar } from "./char.ts";
import { tokenizeIntl } from "./intl.ts";
import { tokenizeZh } from "./zh.ts";

export const TOKENIZERS = {
  none: (line: string) => line,
  zh: tokenizeZh,
  "13a": tokenize13a,
  intl: tokenizeIntl,
  char: tokenizeChar,
} as const;

export type TokenizerName = keyof typeof TOKENIZERS;

export const TOKENIZER_NAMES = Object.keys(TOKENIZERS) as TokenizerName[];

export function isTokenizerName(name: string): name is TokenizerName {
  return Object.hasOwn(TOKENIZERS, name);
}

export { tokenize13a, tokenizeChar, tokenizeIntl, tokenizeZh };
