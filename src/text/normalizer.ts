// SentencePiece text normalization (src/normalizer.cc Normalizer::Normalize), byte for byte:
//  - each step takes the longest user-defined symbol at the cursor verbatim, else the longest
//    precompiled-charsmap rule's replacement, else one UTF-8 character (a malformed byte → U+FFFD);
//  - remove_extra_whitespaces drops leading pieces that normalize to exactly " ", collapses runs of
//    spaces and drops trailing ones; escape_whitespaces writes spaces as U+2581;
//  - add_dummy_prefix puts one U+2581 in front (behind with treat_whitespace_as_suffix).
import { ByteTrie } from "./byte-trie.ts";
import { PrecompiledCharsMap } from "./charsmap.ts";
import type { NormalizerSpec } from "./model-proto.ts";
import { decodeUtf8Char, oneCharLen } from "./utf8.ts";

const SPACE = 0x20;
/** U+2581 LOWER ONE EIGHTH BLOCK, the visible space of SentencePiece. */
export const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]);
const REPLACEMENT_CHAR = new Uint8Array([0xef, 0xbf, 0xbd]);

class ByteBuilder {
  buf: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  push(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  endsWith(bytes: Uint8Array): boolean {
    if (this.length < bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (this.buf[this.length - bytes.length + i] !== bytes[i]) return false;
    return true;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class Normalizer {
  private readonly charsmap: PrecompiledCharsMap | undefined;

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix: boolean,
    /** User-defined symbols: copied verbatim, never normalized. */
    private readonly userDefined: ByteTrie | undefined,
  ) {
    this.charsmap = spec.precompiledCharsmap.length > 0 ? new PrecompiledCharsMap(spec.precompiledCharsmap) : undefined;
  }

  /** NormalizePrefix: [replacement bytes, number of input bytes consumed]. */
  private prefix(input: Uint8Array, pos: number): [Uint8Array, number] {
    const end = input.length;
    if (this.userDefined) {
      const len = this.userDefined.longestPrefix(input, pos, end);
      if (len > 0) return [input.subarray(pos, pos + len), len];
    }
    const rule = this.charsmap?.longestMatch(input, pos, end);
    if (rule) return [rule[1], rule[0]];
    const { cp, len } = decodeUtf8Char(input, pos, end);
    // A literal U+FFFD decodes as kUnicodeError with length 3 and still counts as valid.
    if (cp < 0) return [REPLACEMENT_CHAR, 1];
    return [input.subarray(pos, pos + len), len];
  }

  normalize(input: Uint8Array): Uint8Array {
    const spec = this.spec;
    let pos = 0;
    if (input.length === 0) return new Uint8Array(0);
    if (spec.removeExtraWhitespaces) {
      while (pos < input.length) {
        const [rep, consumed] = this.prefix(input, pos);
        if (!(rep.length === 1 && rep[0] === SPACE)) break;
        pos += consumed;
      }
    }
    if (pos >= input.length) return new Uint8Array(0);

    const out = new ByteBuilder(input.length * 3);
    const addSpace = () => {
      if (spec.escapeWhitespaces) out.append(SPACE_SYMBOL);
      else out.push(SPACE);
    };
    if (!this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addSpace();

    let isPrevSpace = spec.removeExtraWhitespaces;
    while (pos < input.length) {
      const [rep, consumed] = this.prefix(input, pos);
      let start = 0;
      if (isPrevSpace) while (start < rep.length && rep[start] === SPACE) start++;
      if (start < rep.length) {
        for (let i = start; i < rep.length; i++) {
          const b = rep[i]!;
          if (spec.escapeWhitespaces && b === SPACE) out.append(SPACE_SYMBOL);
          else out.push(b);
        }
        isPrevSpace = rep[rep.length - 1] === SPACE;
      }
      pos += consumed;
      if (!spec.removeExtraWhitespaces) isPrevSpace = false;
    }

    if (spec.removeExtraWhitespaces) {
      const space = spec.escapeWhitespaces ? SPACE_SYMBOL : new Uint8Array([SPACE]);
      while (out.endsWith(space)) out.length -= space.length;
    }
    if (this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addSpace();
    return out.result();
  }
}

/** Byte length of the character starting at `pos` of a normalized (valid UTF-8) string. */
export function charLenAt(bytes: Uint8Array, pos: number): number {
  return Math.min(oneCharLen(bytes[pos]!), bytes.length - pos);
}
