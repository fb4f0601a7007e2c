// Reads what `nast translate` needs to check a model package before onnxruntime loads it: the ONNX
// metadata_props (our "nast.*" keys) and the graph's input and output names, by walking the
// protobuf wire format of ModelProto (onnx.proto: graph = 7, metadata_props = 14; GraphProto:
// input = 11, output = 12) and skipping everything else. A truncated or foreign file fails here with
// a message that says so, instead of onnxruntime's "protobuf parsing failed".

export interface OnnxInfo {
  irVersion: number;
  metadata: Record<string, string>;
  inputs: string[];
  outputs: { name: string; dims: (number | string)[] }[];
}

export class OnnxFormatError extends Error {
  override name = "OnnxFormatError";
}

/** A cursor over a protobuf message's bytes; also what src/export/onnx-weights.ts reads initializers with. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new OnnxFormatError("ends inside a number (truncated)");
      const b = this.buf[this.pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new OnnxFormatError("malformed varint");
    }
  }
  /** Returns [field, wire] of the next key. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }
  /** The [start, end) of a length-delimited field's payload; advances past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new OnnxFormatError(`a field of ${len} bytes runs past the end (truncated)`);
    this.pos = start + len;
    return [start, start + len];
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new OnnxFormatError(`unknown wire type ${wire} (not an ONNX model?)`);
    }
    if (this.pos > this.end) throw new OnnxFormatError("truncated");
  }
  sub([start, end]: [number, number]): ProtoReader {
    return new ProtoReader(this.buf, start, end);
  }
  string([start, end]: [number, number]): string {
    return new TextDecoder("utf-8", { fatal: false }).decode(this.buf.subarray(start, end));
  }
}

function valueInfo(r: ProtoReader): { name: string; dims: (number | string)[] } {
  let name = "";
  const dims: (number | string)[] = [];
  while (!r.done) {
    const [f, w] = r.key();
    if (f === 1 && w === 2) name = r.string(r.span());
    else if (f === 2 && w === 2) {
      const type = r.sub(r.span());
      while (!type.done) {
        const [tf, tw] = type.key();
        if (tf !== 1 || tw !== 2) {
          type.skip(tw);
          continue;
        }
        const tensor = type.sub(type.span());
        while (!tensor.done) {
          const [xf, xw] = tensor.key();
          if (xf !== 2 || xw !== 2) {
            tensor.skip(xw);
            continue;
          }
          const shape = tensor.sub(tensor.span());
          while (!shape.done) {
            const [sf, sw] = shape.key();
            if (sf !== 1 || sw !== 2) {
              shape.skip(sw);
              continue;
            }
            const dim = shape.sub(shape.span());
            let value: number | string = "?";
            while (!dim.done) {
              const [df, dw] = dim.key();
              if (df === 1 && dw === 0) value = dim.varint();
              else if (df === 2 && dw === 2) value = dim.string(dim.span());
              else dim.skip(dw);
            }
            dims.push(value);
          }
        }
      }
    } else r.skip(w);
  }
  return { name, dims };
}

export function readOnnxInfo(buf: Uint8Array): OnnxInfo {
  const r = new ProtoReader(buf, 0, buf.length);
  const info: OnnxInfo = { irVersion: 0, metadata: {}, inputs: [], outputs: [] };
  let sawGraph = false;
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === 0) info.irVersion = r.varint();
    else if (field === 7 && wire === 2) {
      sawGraph = true;
      const g = r.sub(r.span());
      while (!g.done) {
        const [gf, gw] = g.key();
        if (gf === 11 && gw === 2) info.inputs.push(valueInfo(g.sub(g.span())).name);
        else if (gf === 12 && gw === 2) info.outputs.push(valueInfo(g.sub(g.span())));
        else g.skip(gw);
      }
    } else if (field === 14 && wire === 2) {
      const e = r.sub(r.span());
      let key = "";
      let value = "";
      while (!e.done) {
        const [ef, ew] = e.key();
        if (ef === 1 && ew === 2) key = e.string(e.span());
        else if (ef === 2 && ew === 2) value = e.string(e.span());
        else e.skip(ew);
      }
      info.metadata[key] = value;
    } else r.skip(wire);
  }
  if (!sawGraph) throw new OnnxFormatError("holds no graph (not an ONNX model?)");
  return info;
}
