// SentencePiece unigram tokenizer in TypeScript: loads a `.model` written by spm_train and encodes
// and decodes exactly as Debian's spm_encode / spm_decode 0.1.97 (normalizer.cc, unigram_model.cc
// EncodeOptimized, sentencepiece_processor.cc PopulateSentencePieceText and Decode, in google/sentencepiece's
// src/; docs/design.md §7.3).
//
// Id layout of the models `nast prep` trains (src/text/train.ts): fairseq's dictionary order,
//   0 = <s> (the CTC blank), 1 = <pad>, 2 = </s>, 3 = <unk>, then the pieces.
// The CTC blank is id 0 as in the reference recipe (docs/model.md §2.1): <s> is a CONTROL piece,
// so encode never emits it and decode renders it as nothing; BOS/EOS are never used by CTC-NAST.
import { ByteTrie } from "./byte-trie.ts";
import { ModelType, PieceType, parseModelProto, type ModelProto } from "./model-proto.ts";
import { Normalizer, charLenAt } from "./normalizer.ts";
import { decodeUtf8Char, utf8Decoder, utf8Encoder } from "./utf8.ts";

/** The CTC blank id (the `<s>` control piece of the fairseq id layout). */
export const BLANK_ID = 0;

/** unigram_model.h kUnkPenalty. */
const UNK_PENALTY = 10;
const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;
const SPACE_SYMBOL = "\u2581";

export class SentencePieceError extends Error {
  override name = "SentencePieceError";
}

/** One piece of an encoding: its id and its bytes in the normalized text (byte pieces: one byte). */
interface Span {
  id: number;
  begin: number;
  end: number;
}

export class SentencePieceCodec {
  private readonly pieces: string[];
  private readonly types: PieceType[];
  private readonly scores: Float32Array;
  /** The vocabulary trie of encoding, built on the first encode: decoding (all `nast translate` does) needs none. */
  private vocabTrie: ByteTrie | undefined;
  private readonly reserved = new Map<string, number>();
  private readonly normalIds = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly normalizer: Normalizer;
  private readonly unkId: number;
  private readonly unkScore: number;
  private readonly maxScore: number;
  private readonly byteFallback: boolean;
  private readonly unkSurface: string;
  private readonly addDummyPrefix: boolean;
  private readonly removeExtraWhitespaces: boolean;

  protected constructor(model: ModelProto, source: string) {
    const fail = (msg: string) => new SentencePieceError(`${source}: ${msg}`);
    const ts = model.trainerSpec;
    if (ts.modelType !== ModelType.UNIGRAM) {
      throw fail(`model type ${ModelType[ts.modelType] ?? ts.modelType} is not supported (only unigram; train with --model_type=unigram)`);
    }
    if (ts.treatWhitespaceAsSuffix) throw fail("treat_whitespace_as_suffix models are not supported");
    if (model.denormalizerCharsmapBytes > 0) throw fail("models with denormalization rules are not supported");
    if (model.pieces.length === 0) throw fail("the model has no pieces (not a SentencePiece model?)");

    this.pieces = model.pieces.map((p) => p.piece);
    this.types = model.pieces.map((p) => p.type);
    this.scores = Float32Array.from(model.pieces, (p) => p.score);
    this.byteFallback = ts.byteFallback;
    this.unkSurface = ts.unkSurface;
    this.addDummyPrefix = model.normalizerSpec.addDummyPrefix;
    this.removeExtraWhitespaces = model.normalizerSpec.removeExtraWhitespaces;

    // model_interface.cc InitializePieces + unigram Model constructor.
    let unkId = -1;
    let minScore = FLT_MAX;
    let maxScore = FLT_MIN;
    const userDefined = new ByteTrie();
    let hasUserDefined = false;
    model.pieces.forEach((p, id) => {
      if (p.piece.length === 0) throw fail(`piece ${id} is empty`);
      const normal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      const map = normal ? this.normalIds : this.reserved;
      if (map.has(p.piece)) throw fail(`piece ${JSON.stringify(p.piece)} is defined twice`);
      map.set(p.piece, id);
      if (p.type === PieceType.USER_DEFINED) {
        userDefined.insert(utf8Encoder.encode(p.piece), id);
        hasUserDefined = true;
      }
      if (p.type === PieceType.NORMAL) {
        minScore = Math.min(minScore, p.score);
        maxScore = Math.max(maxScore, p.score);
      }
      if (p.type === PieceType.UNKNOWN) {
        if (unkId >= 0) throw fail("more than one <unk> piece");
        unkId = id;
      }
      if (p.type === PieceType.BYTE) {
        if (!ts.byteFallback) throw fail(`byte piece ${p.piece} found although byte_fallback is false`);
        const m = /^<0x([0-9A-F]{2})>$/.exec(p.piece);
        if (!m) throw fail(`byte piece ${p.piece} is invalid`);
        this.byteIds[parseInt(m[1]!, 16)] = id;
      }
    });
    if (unkId < 0) throw fail("the model defines no <unk> piece");
    if (ts.byteFallback && this.byteIds.some((id) => id < 0)) throw fail("byte_fallback is on but not all 256 byte pieces exist");
    this.unkId = unkId;
    // Float arithmetic as in C++: min_score_ - kUnkPenalty is a float.
    this.unkScore = Math.fround(minScore - UNK_PENALTY);
    this.maxScore = maxScore;
    this.normalizer = new Normalizer(model.normalizerSpec, ts.treatWhitespaceAsSuffix, hasUserDefined ? userDefined : undefined);
  }

  private get trie(): ByteTrie {
    if (this.vocabTrie === undefined) {
      const trie = new ByteTrie();
      for (const [piece, id] of this.normalIds) trie.insert(utf8Encoder.encode(piece), id);
      this.vocabTrie = trie;
    }
    return this.vocabTrie;
  }

  static fromBytes(buf: Uint8Array, source = "<bytes>"): SentencePieceCodec {
    let model: ModelProto;
    try {
      model = parseModelProto(buf);
    } catch (err) {
      throw new SentencePieceError(`${source}: not a valid SentencePiece model (${(err as Error).message})`);
    }
    return new SentencePieceCodec(model, source);
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  idToPiece(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new RangeError(`SentencePiece id ${id} out of range [0, ${this.pieces.length})`);
    return p;
  }

  /** ModelInterface::PieceToId: control/unknown/byte pieces first, then the vocabulary; else <unk>. */
  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.normalIds.get(piece) ?? this.unkId;
  }

  encode(text: string): number[] {
    return this.encodeSpans(text).spans.map((s) => s.id);
  }

  encodePieces(text: string): string[] {
    const { normalized, spans } = this.encodeSpans(text);
    return spans.map((s) =>
      this.types[s.id] === PieceType.BYTE
        ? this.pieces[s.id]!
        : utf8Decoder.decode(normalized.subarray(s.begin, s.end)),
    );
  }

  private encodeSpans(text: string): { normalized: Uint8Array; spans: Span[] } {
    const normalized = this.normalizer.normalize(utf8Encoder.encode(text));
    const best = this.viterbi(normalized);
    // PopulateSentencePieceText: runs of <unk> merge into one piece, or with byte fallback every
    // <unk> piece becomes its UTF-8 bytes.
    const spans: Span[] = [];
    let prevUnk = false;
    for (const s of best) {
      const isUnk = s.id === this.unkId;
      if (isUnk && this.byteFallback) {
        for (let i = s.begin; i < s.end; i++) spans.push({ id: this.byteIds[normalized[i]!]!, begin: i, end: i + 1 });
      } else if (isUnk && prevUnk) {
        spans[spans.length - 1]!.end = s.end;
      } else spans.push(s);
      prevUnk = isUnk;
    }
    return { normalized, spans };
  }

  /**
   * unigram Model::EncodeOptimized: best path ending at each byte position. Scores mix float and
   * double exactly as the C++ does: a piece score (float, promoted to double by the user-defined
   * branch of the ternary) plus the float path score is compared in double and stored as float;
   * the unknown candidate is float + float.
   */
  private viterbi(s: Uint8Array): Span[] {
    const size = s.length;
    if (size === 0) return [];
    const score = new Float64Array(size + 1);
    const startsAt = new Int32Array(size + 1).fill(-1);
    const ids = new Int32Array(size + 1).fill(-1);
    const trie = this.trie;
    let start = 0;
    while (start < size) {
      const here = score[start]!;
      const mblen = charLenAt(s, start);
      let hasSingle = false;
      let node = ByteTrie.ROOT;
      for (let pos = start; pos < size; ) {
        node = trie.next(node, s[pos]!);
        pos++;
        if (node < 0) break;
        const id = trie.value(node);
        if (id < 0) continue;
        const type = this.types[id]!;
        if (type === PieceType.UNUSED) continue;
        const length = pos - start;
        const pieceScore = type === PieceType.USER_DEFINED ? Math.fround(length * this.maxScore) - 0.1 : this.scores[id]!;
        const candidate = pieceScore + here;
        if (startsAt[pos] === -1 || candidate > score[pos]!) {
          score[pos] = Math.fround(candidate);
          startsAt[pos] = start;
          ids[pos] = id;
        }
        if (length === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const end = start + mblen;
        const candidate = Math.fround(this.unkScore + here);
        if (startsAt[end] === -1 || candidate > score[end]!) {
          score[end] = candidate;
          startsAt[end] = start;
          ids[end] = this.unkId;
        }
      }
      start += mblen;
    }
    const out: Span[] = [];
    for (let end = size; end > 0; ) {
      const begin = startsAt[end]!;
      out.push({ id: ids[end]!, begin, end });
      end = begin;
    }
    return out.reverse();
  }

  /** SentencePieceProcessor::Decode over ids (out-of-range ids throw, as spm_decode fails). */
  decode(ids: readonly number[]): string {
    let text = "";
    let isBosWs = true;
    let bosWsSeen = false;
    let bytes: number[] = [];
    const flushBytes = () => {
      if (bytes.length === 0) return;
      const buf = Uint8Array.from(bytes);
      for (let off = 0; off < buf.length; ) {
        const { cp, len } = decodeUtf8Char(buf, off, buf.length);
        text += cp < 0 ? "\ufffd" : String.fromCodePoint(cp);
        off += len;
      }
      bytes = [];
    };
    for (const id of ids) {
      const piece = this.idToPiece(id);
      const type = this.types[id]!;
      if (type === PieceType.BYTE) {
        bytes.push(parseInt(piece.slice(3, 5), 16));
        continue;
      }
      flushBytes();
      if (bosWsSeen || text.length > 0) isBosWs = false;
      bosWsSeen = false;
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) {
        text += this.unkSurface;
        continue;
      }
      let p = piece;
      if (isBosWs && (this.addDummyPrefix || this.removeExtraWhitespaces)) {
        if (p.startsWith(SPACE_SYMBOL)) {
          p = p.slice(SPACE_SYMBOL.length);
          // With remove_extra_whitespaces every leading whitespace piece is stripped, so the flag
          // that would stop stripping after the first one stays false.
          bosWsSeen = !this.removeExtraWhitespaces;
        }
      }
      text += p.replaceAll(SPACE_SYMBOL, " ");
    }
    flushBytes();
    return text;
  }
}
