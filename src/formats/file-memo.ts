// Facts about files remembered across runs by the files' identities, so that a fact costly to take (a file's
// SHA-256, the checks of a 30 MB model.onnx) is taken once per version of the file, as git's index does for the
// files of a work tree (git's Documentation/technical/racy-git.txt): a file whose identity (device, inode, size,
// mtime and ctime in ns; any write through the file system changes ctime) is the one recorded when the fact was
// taken, and whose ctime was already at least RACY_MS old then, is the file the fact is about. A memo is a folder
// of JSON records, one per file path (named by the path's SHA-256); a memo that cannot be read or written only
// means that the fact is taken again.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { hiddenTempPath, writeFileAtomic } from "./atomic-file.ts";

/** What tells one version of a file from another without reading it: a change through the file system changes ctime. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export function fileIdentity(st: BigIntStats): FileIdentity {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * A file changed within this long of a fact being taken could change again without its recorded ctime changing
 * (file system timestamps are coarser than their nanosecond fields), so its identity is trusted only once older.
 */
export const RACY_MS = 2000;
/** Records kept in one memo; the ones written longest ago are removed when one is written. */
const MAX_RECORDS = 32;

/** Whether a file of identity `now` is, without reading it, the one of `recorded` whose fact was taken at `takenAt` (ms since the epoch). */
export function unchangedSince(recorded: FileIdentity, takenAt: number, now: FileIdentity): boolean {
  return sameIdentity(recorded, now) && Number(BigInt(now.ctimeNs) / 1_000_000n) < takenAt - RACY_MS;
}

export function isFileIdentity(id: unknown): id is FileIdentity {
  if (id === null || typeof id !== "object") return false;
  const o = id as { [k: string]: unknown };
  return ["dev", "ino", "size", "mtimeNs", "ctimeNs"].every((k) => typeof o[k] === "string");
}

interface MemoRecord {
  path: string;
  identity: FileIdentity;
  takenAt: number;
  value: unknown;
}

/** One kind of fact (`isValue` tells a well-formed one) about files, remembered in the folder `dir`. */
export class FileMemo<T> {
  constructor(
    readonly dir: string,
    private readonly isValue: (v: unknown) => v is T,
  ) {}

  private recordPath(path: string): string {
    return join(this.dir, `${createHash("sha256").update(path).digest("hex")}.json`);
  }

  /** The fact remembered for the file at `path`, when the file (now of identity `identity`) is the one it is about. */
  recall(path: string, identity: FileIdentity): T | undefined {
    let r: Partial<MemoRecord>;
    try {
      r = JSON.parse(readFileSync(this.recordPath(path), "utf8")) as Partial<MemoRecord>;
    } catch {
      return undefined;
    }
    if (r.path !== path || typeof r.takenAt !== "number" || !isFileIdentity(r.identity) || !unchangedSince(r.identity, r.takenAt, identity)) return undefined;
    return this.isValue(r.value) ? r.value : undefined;
  }

  /** Remembers `value`, taken at `takenAt` (before the file was read), for the file at `path` of identity `identity`. */
  remember(path: string, identity: FileIdentity, takenAt: number, value: T): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const record: MemoRecord = { path, identity, takenAt, value };
      writeFileAtomic(this.recordPath(path), JSON.stringify(record), hiddenTempPath);
      this.prune();
    } catch {
      // Unwritable: the fact is taken again next time.
    }
  }

  private prune(): void {
    const records = readdirSync(this.dir)
      .filter((name) => name.endsWith(".json"))
      .flatMap((name) => {
        try {
          return [{ path: join(this.dir, name), used: statSync(join(this.dir, name)).mtimeMs }];
        } catch {
          return []; // removed by another process meanwhile
        }
      });
    records.sort((x, y) => y.used - x.used);
    for (const r of records.slice(MAX_RECORDS)) rmSync(r.path, { force: true });
  }
}
