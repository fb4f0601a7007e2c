// Protocol buffers in wire format only, without a protobuf dependency: the reader walks SentencePiece's
// `.model` (ModelProto of sentencepiece_model.proto) and ONNX's model.onnx (onnx/onnx.proto); the writer
// serializes ONNX's ModelProto. Wire format: https://protobuf.dev/programming-guides/encoding/
// (tag = field << 3 | wire type; wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32; groups,
// 3/4, are deprecated and appear in neither schema, so they are rejected).

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

export class ProtoError extends Error {
  override name = "ProtoError";
}

const utf8Decoder = new TextDecoder("utf-8");

/** A cursor over the bytes [start, end) of one message. */
export class ProtoReader {
  pos: number;
  /** Made on the first fixed-width read and handed to embedded messages: a SentencePiece model has one message per piece. */
  private view: DataView | undefined;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
    view?: DataView,
  ) {
    this.pos = start;
    this.view = view;
  }

  private dataView(): DataView {
    return (this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint (uint64, int64 dims, enums, lengths), exact up to 2^53. */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtoError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift >= 70) throw new ProtoError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
  }

  /**
   * A varint as its low 32 bits, signed (int32 semantics: proto2 writes a negative int32 as a 10-byte
   * varint, e.g. SentencePiece's pad_id = -1).
   */
  int32(): number {
    const start = this.pos;
    this.varint();
    let low = 0;
    for (let i = 0; i < 5 && start + i < this.pos; i++) low |= (this.buf[start + i]! & 0x7f) << (7 * i);
    return low | 0;
  }

  /** Reads a key; returns [fieldNumber, wireType]. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new ProtoError(`truncated fixed32 at byte ${this.pos}`);
    const v = this.dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** The [start, end) of a length-delimited field's payload; advances past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new ProtoError(`a field of ${len} bytes at byte ${start} runs past the end at ${this.end} (truncated)`);
    this.pos = start + len;
    return [start, start + len];
  }

  /** A length-delimited field as a sub-range of the buffer (not a copy). */
  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buf.subarray(start, end);
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  /** An embedded message: a reader over its payload. */
  message(): ProtoReader {
    const [start, end] = this.span();
    return new ProtoReader(this.buf, start, end, this.dataView());
  }

  /** Each length-delimited field `field` in the rest of this message, as a reader of its bytes; every other field is skipped. */
  *messages(field: number): Generator<ProtoReader> {
    while (!this.done) {
      const [f, w] = this.key();
      if (f === field && w === WIRE_LENGTH) yield this.message();
      else this.skip(w);
    }
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LENGTH:
        this.span();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
    if (this.pos > this.end) throw new ProtoError(`truncated field at byte ${this.pos}`);
  }
}

// The writer keeps a message as a list of chunks so that large initializers (hundreds of MB of weights)
// are never copied into one contiguous buffer until written out.
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  // Small scalars are collected in a scratch array and flushed as one chunk before any big chunk.
  private scratch: number[] = [];

  get length(): number {
    return this.bytes + this.scratch.length;
  }

  private flush(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.bytes += this.scratch.length;
    this.scratch = [];
  }

  private pushChunk(chunk: Uint8Array): void {
    this.flush();
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Unsigned varint of a non-negative integer or bigint; negative int64 as its two's complement (10 bytes). */
  private varint(value: number | bigint): void {
    let v = typeof value === "bigint" ? value : BigInt(value);
    if (v < 0n) v = BigInt.asUintN(64, v);
    if (v <= 0x7fffffffn) {
      let n = Number(v);
      while (n >= 0x80) {
        this.scratch.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.scratch.push(n);
      return;
    }
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field (varint). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH);
    this.varint(value.length);
    if (value.length < 64) this.scratch.push(...value);
    else this.pushChunk(value);
    return this;
  }

  /** Packed repeated varints (int64 lists). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.message(field, inner);
  }

  /** Embedded message: its chunks are appended without copying. */
  message(field: number, inner: ProtoWriter): this {
    inner.flush();
    this.tag(field, WIRE_LENGTH);
    this.varint(inner.bytes);
    this.flush();
    for (const c of inner.chunks) this.chunks.push(c);
    this.bytes += inner.bytes;
    return this;
  }

  /** The serialized message as chunks (concatenate or write them in order). */
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks.slice();
  }

  /** The serialized message in one array. */
  toBuffer(): Uint8Array {
    const chunks = this.finish();
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
