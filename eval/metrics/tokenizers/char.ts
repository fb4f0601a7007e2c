// Character tokenization (sacreBLEU tokenizers/tokenizer_char.py): every code point becomes a token; spaces
// become empty tokens that the following whitespace split drops.
import { pyChars } from "../python.ts";

export function tokenizeChar(line: string): string {
  return pyChars(line).join(" ");
}
