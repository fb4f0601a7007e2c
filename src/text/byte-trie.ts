// A trie over UTF-8 bytes: the vocabulary lookup of the unigram Viterbi (which walks one byte at a
// time from each character start, like Darts traverse() in unigram_model.cc) and the user-defined
// symbol matcher of the normalizer.

export class ByteTrie {
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly values: number[] = [-1];

  /** Root node id, for walking with `next`. */
  static readonly ROOT = 0;

  insert(key: Uint8Array, value: number): void {
    let node = ByteTrie.ROOT;
    for (const b of key) {
      let child = this.children[node]!.get(b);
      if (child === undefined) {
        child = this.values.length;
        this.children[node]!.set(b, child);
        this.children.push(new Map());
        this.values.push(-1);
      }
      node = child;
    }
    this.values[node] = value;
  }

  /** The child of `node` along byte `b`, or −1. */
  next(node: number, b: number): number {
    return this.children[node]!.get(b) ?? -1;
  }

  /** The value stored at `node`, or −1 when no key ends there. */
  value(node: number): number {
    return this.values[node]!;
  }

  /** Exact lookup: the value of `key`, or −1. */
  get(key: Uint8Array): number {
    let node = ByteTrie.ROOT;
    for (const b of key) {
      node = this.next(node, b);
      if (node < 0) return -1;
    }
    return this.value(node);
  }

  /** Length in bytes of the longest key that is a prefix of bytes[pos..end), or 0. */
  longestPrefix(bytes: Uint8Array, pos: number, end: number): number {
    let node = ByteTrie.ROOT;
    let best = 0;
    for (let i = pos; i < end; i++) {
      node = this.next(node, bytes[i]!);
      if (node < 0) break;
      if (this.values[node]! >= 0) best = i - pos + 1;
    }
    return best;
  }
}
