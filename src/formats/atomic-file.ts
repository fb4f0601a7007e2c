// Files that are either absent or complete: a temporary file next to the target, fsync, then rename over
// the target (atomic on POSIX file systems), so a crash never leaves a half-written checkpoint or plot.
// The default temporary name `<path>.tmp-<pid>` is what src/train/trainer.ts removes after a killed run;
// src/data writes under hiddenTempPath's names instead, which src/data/prep.ts cleans up.
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** `.<name>.tmp-<pid>-<random>` next to `path`: hidden, and unique to the process and the call. */
export function hiddenTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

/**
 * Writes `data` (a string, bytes, or chunks written in order) to `path` this way. The temporary file is
 * created anew (O_EXCL, O_NOFOLLOW: never an existing file or a planted link), a link at `path` is replaced
 * rather than written through, and a failed write removes the temporary file. `tempPath` names the temporary file.
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  tempPath: (path: string) => string = (p) => `${p}.tmp-${process.pid}`,
): void {
  const tmp = tempPath(path);
  rmSync(tmp, { force: true }); // a stale one of a killed process whose pid came round again (unlinked, never followed)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    try {
      const chunks = typeof data === "string" ? [Buffer.from(data, "utf8")] : data instanceof Uint8Array ? [data] : data;
      for (const bytes of chunks) {
        let done = 0;
        while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
