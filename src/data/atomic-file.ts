// Files that are either absent or complete: written under a temporary name in the same directory,
// then renamed (rename is atomic on POSIX), so a kill never leaves a half-written file under the
// real name.
import { basename, dirname, join } from "node:path";
import { writeFileAtomic as writeFileAtomicAs } from "../util/atomic-file.ts";

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

/** src/util/atomic-file.ts under this module's temporary name (the one src/data/prep.ts cleans up). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicAs(path, data, tempPathFor(path));
}
