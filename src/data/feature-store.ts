// A feature store: one split's fbank features in ONE data file plus an index, read by random access.
//   <dir>/feats.bin   utterance after utterance, row-major [frames, 80], float16 or float32 LE
//   <dir>/index.json  per utterance: id, frames, start (in values), src/tgt text and token ids,
//                     talk, offset, duration, speaker (columnar arrays)
//   <dir>/COMPLETE    written last by `nast prep`: without it the store is unfinished and refused
// Features are raw log-mel fbank (no CMVN: utterance CMVN is applied at load time, as in fairseq).
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.ts";
import { decodeHalf } from "../formats/float16.ts";

export const FEATURE_DIM = 80;
export const STORE_DATA = "feats.bin";
export const STORE_INDEX = "index.json";
export const STORE_MARKER = "COMPLETE";
export const STORE_FORMAT = "nast-feature-store";
export const STORE_VERSION = 1;

export type FeatureDtype = "float16" | "float32";

export function bytesPerValue(dtype: FeatureDtype): number {
  return dtype === "float16" ? 2 : 4;
}

export interface StoreColumns {
  id: string[];
  talk: string[];
  offset: number[];
  duration: number[];
  speaker: string[];
  frames: number[];
  /** First value of the utterance in feats.bin (byte offset = start · bytesPerValue). */
  start: number[];
  src: string[];
  tgt: string[];
  srcIds: number[][];
  tgtIds: number[][];
}

export interface StoreIndex {
  format: typeof STORE_FORMAT;
  version: number;
  split: string;
  dtype: FeatureDtype;
  dim: number;
  count: number;
  columns: StoreColumns;
}

export interface StoreMarker {
  count: number;
  dataBytes: number;
  dtype: FeatureDtype;
  /** sha256 of the spm.model the token ids come from. */
  spmSha256: string;
  /** Talks that could not be prepared (their utterances are missing; a re-run retries them). */
  failedTalks: string[];
  filtered: { tooShort: number; tooLong: number; emptyTarget: number };
  finishedAt: string;
}

export interface StoreItem {
  id: string;
  frames: number;
  /** frames · 80 values, row-major. */
  feats: Float32Array;
}

export interface UtteranceMeta {
  id: string;
  frames: number;
  src: string;
  tgt: string;
  srcIds: number[];
  tgtIds: number[];
  talk: string;
  offset: number;
  duration: number;
  speaker: string;
}

export interface FeatureStore {
  readonly dir: string;
  readonly size: number;
  readonly dtype: FeatureDtype;
  readonly marker: StoreMarker;
  item(i: number): StoreItem;
  meta(i: number): UtteranceMeta;
  /** Frames of every utterance, in store order (for batchesByFrames). */
  frames(): number[];
  close(): void;
}

export function readStoreMarker(dir: string): StoreMarker | undefined {
  const path = join(dir, STORE_MARKER);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as StoreMarker;
}

export function openFeatureStore(dir: string): FeatureStore {
  const marker = readStoreMarker(dir);
  if (!marker) {
    throw new InputError(dir, `is not a finished feature store (no ${STORE_MARKER} marker): run or resume \`nast prep\` for this split`);
  }
  const index = JSON.parse(readFileSync(join(dir, STORE_INDEX), "utf8")) as StoreIndex;
  if (index.format !== STORE_FORMAT || index.version !== STORE_VERSION) {
    throw new InputError(dir, `unknown store format ${index.format} v${index.version}; re-run nast prep`);
  }
  const { columns: c, dtype, dim, count } = index;
  const bpv = bytesPerValue(dtype);
  const dataPath = join(dir, STORE_DATA);
  const fd = openSync(dataPath, "r");
  const size = fstatSync(fd).size;
  let expected = 0;
  for (let i = 0; i < count; i++) expected = Math.max(expected, (c.start[i]! + c.frames[i]! * dim) * bpv);
  if (size !== marker.dataBytes || size < expected || count !== marker.count) {
    closeSync(fd);
    throw new InputError(dataPath, `has ${size} bytes but the index needs ${expected} (marker: ${marker.dataBytes}); the store is damaged, re-run nast prep`);
  }
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`store ${dir}: utterance index ${i} out of range [0, ${count})`);
  };
  let open = true;
  return {
    dir,
    size: count,
    dtype,
    marker,
    item(i) {
      check(i);
      if (!open) throw new Error(`store ${dir} is closed`);
      const n = c.frames[i]! * dim;
      const bytes = new Uint8Array(n * bpv);
      let got = 0;
      while (got < bytes.length) {
        const r = readSync(fd, bytes, got, bytes.length - got, c.start[i]! * bpv + got);
        if (r === 0) throw new InputError(dataPath, `ends early while reading utterance ${c.id[i]}`);
        got += r;
      }
      const feats = new Float32Array(n);
      if (dtype === "float16") decodeHalf(new Uint16Array(bytes.buffer, bytes.byteOffset, n), feats);
      else feats.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      return { id: c.id[i]!, frames: c.frames[i]!, feats };
    },
    meta(i) {
      check(i);
      return {
        id: c.id[i]!,
        frames: c.frames[i]!,
        src: c.src[i]!,
        tgt: c.tgt[i]!,
        srcIds: c.srcIds[i]!,
        tgtIds: c.tgtIds[i]!,
        talk: c.talk[i]!,
        offset: c.offset[i]!,
        duration: c.duration[i]!,
        speaker: c.speaker[i]!,
      };
    },
    frames() {
      return c.frames.slice();
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
