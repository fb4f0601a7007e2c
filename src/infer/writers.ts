// Output files of `nast translate` (the formats themselves are ./result-formats.ts).
// Files go to a temporary file next to the target, which is fsynced and renamed over it only when
// complete (OutputFile, as src/formats/atomic-file.ts does for whole buffers).
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError, errorMessage } from "../util/errors.ts";

/** The file operations OutputFile uses: node:fs, or a stand-in that fails on purpose (tests). */
export interface OutputFs {
  openSync(path: string, flags: number, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  linkSync(existing: string, newPath: string): void;
  unlinkSync(path: string): void;
  lstatSync(path: string): nodeFs.Stats;
}

export const NODE_FS: OutputFs = nodeFs;

/** "no space left on device (ENOSPC)" from a Node fs error; the message of anything else. */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === "string") {
    const text = e.message.replace(/^[A-Z0-9_]+: /, "").replace(/, [a-z]+(?: '[^']*')*(?: -> '[^']*')?$/, "");
    return `${text} (${e.code})`;
  }
  return errorMessage(err);
}

/** Temporary files of outputs not yet complete: removed when the process exits before they are. */
const unfinished = new Set<string>();
let cleanupInstalled = false;

function removeUnfinished(): void {
  for (const tmp of unfinished) {
    try {
      nodeFs.unlinkSync(tmp);
    } catch {
      // Already gone.
    }
  }
  unfinished.clear();
}

export interface OutputFileOptions {
  /** Replace an existing file (never a symbolic link). Default: an existing file is an error. */
  force?: boolean;
  /** File operations (default node:fs). */
  fs?: OutputFs;
}

/**
 * Refuses a target that is a symbolic link (always), a directory, or an existing file without `force`,
 * with a message that names it.
 */
export function checkOutputTarget(path: string, opts: OutputFileOptions = {}): void {
  const fs = opts.fs ?? NODE_FS;
  let st: nodeFs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new InputError(path, `cannot check it (${fsReason(err)})`);
  }
  if (st.isSymbolicLink()) throw new InputError(path, "is a symbolic link; nast translate neither writes through nor replaces one (remove it, or choose another -o)");
  if (st.isDirectory()) throw new InputError(path, "is a directory");
  if (!opts.force) throw new InputError(path, "already exists; kept as it is (--force replaces it)");
}

/**
 * One output file written as a stream, complete or not at all: the text goes to a new temporary file
 * next to the target (created with O_EXCL and O_NOFOLLOW, so never through a link someone put there),
 * commit() fsyncs it and puts it in place, abort() (or any write error) removes it. Without `force`
 * the target is linked into place, which fails if it exists by then; with it, renamed over the target.
 * Errors name the target.
 */
export class OutputFile {
  readonly tmp: string;
  private fd: number | null;
  private readonly fs: OutputFs;

  private constructor(
    readonly path: string,
    private readonly opts: OutputFileOptions,
  ) {
    this.fs = opts.fs ?? NODE_FS;
    checkOutputTarget(path, opts);
    let created: { fd: number; tmp: string };
    try {
      created = createTemporary(this.fs, path);
    } catch (err) {
      throw new InputError(path, `cannot create a temporary file next to it (${fsReason(err)})`);
    }
    const { fd, tmp } = created;
    this.fd = fd;
    this.tmp = tmp;
    unfinished.add(tmp);
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.once("exit", removeUnfinished);
    }
  }

  static create(path: string, opts: OutputFileOptions = {}): OutputFile {
    return new OutputFile(path, opts);
  }

  write(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    try {
      let done = 0;
      while (done < bytes.byteLength) done += this.fs.writeSync(this.fd!, bytes, done, bytes.byteLength - done);
    } catch (err) {
      this.abort();
      throw new InputError(this.path, `cannot write it (${fsReason(err)}); nothing was written`);
    }
  }

  commit(): void {
    try {
      this.fs.fsyncSync(this.fd!);
      const fd = this.fd!;
      this.fd = null;
      this.fs.closeSync(fd);
    } catch (err) {
      this.abort();
      throw new InputError(this.path, `cannot write it (${fsReason(err)}); nothing was written`);
    }
    try {
      if (this.opts.force) {
        checkOutputTarget(this.path, this.opts);
        this.fs.renameSync(this.tmp, this.path);
      } else if (this.linkIntoPlace()) {
        try {
          this.fs.unlinkSync(this.tmp);
        } catch {
          // The output is in place; only its second name stays behind.
        }
      }
    } catch (err) {
      this.abort();
      if (err instanceof InputError) throw err;
      throw new InputError(this.path, `cannot put it in place (${fsReason(err)}); nothing was written`);
    }
    unfinished.delete(this.tmp);
  }

  /** Closes and removes the temporary file (errors ignored: it is being given up). */
  abort(): void {
    if (this.fd !== null) {
      try {
        this.fs.closeSync(this.fd);
      } catch {
        // The error that made us give up has been reported.
      }
      this.fd = null;
    }
    try {
      this.fs.unlinkSync(this.tmp);
    } catch {
      // Already gone.
    }
    unfinished.delete(this.tmp);
  }

  /**
   * A hard link fails if the target exists by now (true: linked, the temporary name is left to remove);
   * where the file system has no hard links, checks the target and renames (false).
   */
  private linkIntoPlace(): boolean {
    try {
      this.fs.linkSync(this.tmp, this.path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new InputError(this.path, "already exists; kept as it is (--force replaces it)");
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV") throw err;
      checkOutputTarget(this.path, this.opts);
      this.fs.renameSync(this.tmp, this.path);
      return false;
    }
  }
}

/** A new file next to `path`, created with O_EXCL and O_NOFOLLOW (a fresh random name on a clash). */
function createTemporary(fs: OutputFs, path: string): { fd: number; tmp: string } {
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = nodeFs.constants;
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      return { fd: fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o666), tmp };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 8) throw err;
    }
  }
}

/**
 * Checks before any work that files can be created in `dir` (creating it if needed): a temporary file
 * is created and removed, since permission bits alone do not tell (root, read-only mounts, ACLs).
 */
export function checkOutputDir(dir: string, fs: OutputFs = NODE_FS): void {
  try {
    nodeFs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw new InputError(dir, "is not a directory");
    throw new InputError(dir, `cannot create the output directory (${fsReason(err)})`);
  }
  if (!nodeFs.statSync(dir).isDirectory()) throw new InputError(dir, "is not a directory");
  try {
    const { fd, tmp } = createTemporary(fs, join(dir, "nast-write-check"));
    fs.closeSync(fd);
    fs.unlinkSync(tmp);
  } catch (err) {
    throw new InputError(dir, `cannot create files in it (${fsReason(err)})`);
  }
}
