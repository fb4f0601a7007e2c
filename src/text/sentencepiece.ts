// SentencePiece (./sentencepiece-codec.ts: encoding and decoding as spm_encode / spm_decode) with a
// model read from a file.
import { readFileSync } from "node:fs";
import { SentencePieceCodec, SentencePieceError } from "./sentencepiece-codec.ts";

export class SentencePiece extends SentencePieceCodec {
  static load(path: string): SentencePiece {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw new SentencePieceError(`${path}: cannot read the SentencePiece model (${(err as Error).message})`);
    }
    return SentencePieceCodec.fromBytes(buf, path);
  }

}
