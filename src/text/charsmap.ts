// SentencePiece's precompiled normalization map (NormalizerSpec.precompiled_charsmap, e.g. nmt_nfkc):
//   uint32 LE trie_size | trie_size bytes of Darts-clone double-array units (uint32 LE) | NUL-separated
//   replacement strings.
// A common-prefix search over the input bytes finds every rule whose source is a prefix; the longest
// one wins (normalizer.cc NormalizePrefix). Unit layout from third_party/darts_clone/darts.h
// (both in google/sentencepiece; docs/design.md §7.3).

export class CharsMapError extends Error {
  override name = "CharsMapError";
}

/** Darts-clone kMaxTrieResultsSize in Normalizer: only the first 32 prefix matches are considered. */
const MAX_TRIE_RESULTS = 32;

export class PrecompiledCharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;

  constructor(blob: Uint8Array) {
    if (blob.length <= 4) throw new CharsMapError("precompiled_charsmap is broken: shorter than its size header");
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length || trieSize % 4 !== 0) {
      throw new CharsMapError(`precompiled_charsmap is broken: trie size ${trieSize} vs blob size ${blob.length}`);
    }
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.strings = blob.subarray(4 + trieSize);
  }

  /**
   * The longest rule matching a prefix of bytes[pos..end): [matched length, replacement bytes], or
   * undefined when no rule matches.
   */
  longestMatch(bytes: Uint8Array, pos: number, end: number): [number, Uint8Array] | undefined {
    const units = this.units;
    let id = offsetOf(units[0]!);
    let found = 0;
    let bestLen = 0;
    let bestValue = 0;
    for (let i = pos; i < end; i++) {
      const b = bytes[i]!;
      id ^= b;
      const unit = units[id];
      // label(): bit 31 (leaf flag) plus the low byte; a leaf unit never matches an input byte.
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== b) break;
      id ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        if (found < MAX_TRIE_RESULTS) {
          // Later matches are longer, so "longer than the best so far" is simply the latest.
          bestLen = i - pos + 1;
          bestValue = units[id]! & 0x7fffffff;
        }
        found++;
      }
    }
    if (bestLen === 0) return undefined;
    let stop = bestValue;
    while (stop < this.strings.length && this.strings[stop] !== 0) stop++;
    return [bestLen, this.strings.subarray(bestValue, stop)];
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & 0x200) >>> 6);
}
