// The fields of a SentencePiece ModelProto (google/sentencepiece src/sentencepiece_model.proto) that encoding
// and decoding need, with proto2 defaults applied when a field is absent (docs/design.md §7.3).
import { ProtoError, ProtoReader, WIRE_FIXED32, WIRE_LENGTH, WIRE_VARINT } from "../formats/protobuf.ts";

export enum PieceType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

export enum ModelType {
  UNIGRAM = 1,
  BPE = 2,
  WORD = 3,
  CHAR = 4,
}

export interface Piece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface TrainerSpec {
  modelType: ModelType;
  vocabSize: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkSurface: string;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface ModelProto {
  pieces: Piece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  /** Present only when the model was trained with decoding rules (rare; unsupported here). */
  denormalizerCharsmapBytes: number;
}

function expectWire(field: string, got: number, want: number): void {
  if (got !== want) throw new ProtoError(`field ${field} has wire type ${got}, expected ${want}`);
}

function parsePiece(r: ProtoReader): Piece {
  const p: Piece = { piece: "", score: 0, type: PieceType.NORMAL };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1) {
      expectWire("SentencePiece.piece", wire, WIRE_LENGTH);
      p.piece = r.string();
    } else if (field === 2) {
      expectWire("SentencePiece.score", wire, WIRE_FIXED32);
      p.score = r.float32();
    } else if (field === 3) {
      expectWire("SentencePiece.type", wire, WIRE_VARINT);
      p.type = r.int32() as PieceType;
    } else r.skip(wire);
  }
  return p;
}

function parseTrainerSpec(r: ProtoReader): TrainerSpec {
  const t: TrainerSpec = {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    unkSurface: " \u2047 ",
  };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 3 && wire === WIRE_VARINT) t.modelType = r.int32() as ModelType;
    else if (field === 4 && wire === WIRE_VARINT) t.vocabSize = r.int32();
    else if (field === 24 && wire === WIRE_VARINT) t.treatWhitespaceAsSuffix = r.int32() !== 0;
    else if (field === 35 && wire === WIRE_VARINT) t.byteFallback = r.int32() !== 0;
    else if (field === 44 && wire === WIRE_LENGTH) t.unkSurface = r.string();
    else r.skip(wire);
  }
  return t;
}

function parseNormalizerSpec(r: ProtoReader): NormalizerSpec {
  const n: NormalizerSpec = {
    name: "",
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === WIRE_LENGTH) n.name = r.string();
    else if (field === 2 && wire === WIRE_LENGTH) n.precompiledCharsmap = r.bytes();
    else if (field === 3 && wire === WIRE_VARINT) n.addDummyPrefix = r.int32() !== 0;
    else if (field === 4 && wire === WIRE_VARINT) n.removeExtraWhitespaces = r.int32() !== 0;
    else if (field === 5 && wire === WIRE_VARINT) n.escapeWhitespaces = r.int32() !== 0;
    else r.skip(wire);
  }
  return n;
}

export function parseModelProto(buf: Uint8Array): ModelProto {
  const r = new ProtoReader(buf);
  const pieces: Piece[] = [];
  let trainerSpec: TrainerSpec | undefined;
  let normalizerSpec: NormalizerSpec | undefined;
  let denormalizerCharsmapBytes = 0;
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1) {
      expectWire("ModelProto.pieces", wire, WIRE_LENGTH);
      pieces.push(parsePiece(r.message()));
    } else if (field === 2) {
      expectWire("ModelProto.trainer_spec", wire, WIRE_LENGTH);
      trainerSpec = parseTrainerSpec(r.message());
    } else if (field === 3) {
      expectWire("ModelProto.normalizer_spec", wire, WIRE_LENGTH);
      normalizerSpec = parseNormalizerSpec(r.message());
    } else if (field === 5) {
      expectWire("ModelProto.denormalizer_spec", wire, WIRE_LENGTH);
      denormalizerCharsmapBytes = parseNormalizerSpec(r.message()).precompiledCharsmap.length;
    } else r.skip(wire);
  }
  return {
    pieces,
    trainerSpec: trainerSpec ?? parseTrainerSpec(new ProtoReader(new Uint8Array(0))),
    normalizerSpec: normalizerSpec ?? parseNormalizerSpec(new ProtoReader(new Uint8Array(0))),
    denormalizerCharsmapBytes,
  };
}
