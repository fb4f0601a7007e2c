// Per-talk shards written by the `nast prep` workers: <split>/shards/<talk>.bin holds the talk's
// utterances back to back (same layout as feats.bin), <talk>.json lists them. Both are written
// atomically and the .json last, so a shard counts as done exactly when its .json exists; a kill
// leaves at worst a temporary file or an orphan .bin, which the next run overwrites.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { hiddenTempPath, writeFileAtomic } from "../formats/atomic-file.ts";
import { FEATURE_DIM, bytesPerValue, type FeatureDtype } from "./feature-store.ts";

export interface ShardUtterance {
  id: string;
  frames: number;
  /** Samples actually available for the segment (fewer than asked when it runs past the wav's end). */
  samples: number;
  requestedSamples: number;
}

export interface ShardMeta {
  talk: string;
  dtype: FeatureDtype;
  utterances: ShardUtterance[];
}

export function shardPaths(shardDir: string, talk: string): { bin: string; json: string } {
  return { bin: join(shardDir, `${talk}.bin`), json: join(shardDir, `${talk}.json`) };
}

/**
 * The shard's metadata when the shard is complete (its .json exists and the .bin has exactly the
 * size the .json implies) and of the wanted dtype, else undefined: the talk is then redone.
 */
export function readShardMeta(shardDir: string, talk: string, dtype: FeatureDtype): ShardMeta | undefined {
  const { bin, json } = shardPaths(shardDir, talk);
  if (!existsSync(json) || !existsSync(bin)) return undefined;
  let meta: ShardMeta;
  try {
    meta = JSON.parse(readFileSync(json, "utf8")) as ShardMeta;
  } catch {
    return undefined;
  }
  if (meta.dtype !== dtype || meta.talk !== talk || !Array.isArray(meta.utterances)) return undefined;
  const frames = meta.utterances.reduce((sum, u) => sum + u.frames, 0);
  return statSync(bin).size === frames * FEATURE_DIM * bytesPerValue(dtype) ? meta : undefined;
}

/** Streams encoded utterances into <talk>.bin under a temporary name; `finish` publishes it. */
export class ShardWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly utterances: ShardUtterance[] = [];

  constructor(
    private readonly shardDir: string,
    private readonly talk: string,
    private readonly dtype: FeatureDtype,
  ) {
    this.tmp = hiddenTempPath(shardPaths(shardDir, talk).bin);
    this.fd = openSync(this.tmp, "w");
  }

  add(u: ShardUtterance, data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.utterances.push(u);
  }

  finish(): ShardMeta {
    closeSync(this.fd);
    const { bin, json } = shardPaths(this.shardDir, this.talk);
    renameSync(this.tmp, bin);
    const meta: ShardMeta = { talk: this.talk, dtype: this.dtype, utterances: this.utterances };
    writeFileAtomic(json, JSON.stringify(meta), hiddenTempPath);
    return meta;
  }

  /** Drops the unfinished temporary file (after an error in this talk). */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // finish() already closed it
    }
    rmSync(this.tmp, { force: true });
  }
}
