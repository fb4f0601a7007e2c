// A minimal proto2 wire-format reader: enough to walk a SentencePiece `.model` (ModelProto) without a
// protobuf dependency. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (groups, 3/4,
// are deprecated and never appear in sentencepiece_model.proto, so they are rejected).

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

export class ProtoError extends Error {
  override name = "ProtoError";
}

export class ProtoReader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * A varint as its low 32 bits, signed (int32 semantics: proto2 writes a negative int32 as a 10-byte
   * varint, e.g. pad_id = -1). Lengths and enums fit in 31 bits, so they read back unchanged.
   */
  varint(): number {
    let lo = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtoError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (shift < 32) lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift >= 70) throw new ProtoError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
    return lo | 0;
  }

  /** Reads a tag; returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const t = this.varint() >>> 0;
    return [t >>> 3, t & 7];
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new ProtoError(`truncated fixed32 at byte ${this.pos}`);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field as a sub-range [start, end) of the buffer. */
  bytes(): Uint8Array {
    const len = this.varint() >>> 0;
    if (this.pos + len > this.end) {
      throw new ProtoError(`length-delimited field of ${len} bytes at byte ${this.pos} runs past the end (${this.end})`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LENGTH:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
    if (this.pos > this.end) throw new ProtoError(`truncated field at byte ${this.pos}`);
  }
}

const utf8Decoder = new TextDecoder("utf-8");
