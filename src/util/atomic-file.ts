// Files that are either absent or complete: a temporary file next to the target, fsync, then rename over
// the target (atomic on POSIX file systems), so a crash never leaves a half-written checkpoint or plot.
// The default temporary name `<path>.tmp-<pid>` is what src/train/trainer.ts removes after a killed run;
// src/data names its own (src/data/atomic-file.ts), which src/data/prep.ts cleans up.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";

export function writeFileAtomic(path: string, data: Uint8Array | string, tmp = `${path}.tmp-${process.pid}`): void {
  const fd = openSync(tmp, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
