// A minimal protocol-buffers writer (wire format only: varint, 32-bit, length-delimited), enough to
// serialize ONNX's ModelProto. Messages are kept as lists of chunks so that large initializers
// (hundreds of MB of weights) are never copied into one contiguous buffer until written out.
// Wire format: https://protobuf.dev/programming-guides/encoding/ (tag = field << 3 | wire type).

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

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
    this.tag(field, WIRE_LEN);
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
    this.tag(field, WIRE_LEN);
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

  toBuffer(): Buffer {
    return Buffer.concat(this.finish());
  }
}
