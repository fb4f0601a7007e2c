// A cache of the graphs onnxruntime optimizes when a session is created, so that a second `nast translate`
// starts without redoing the work: at level "all" onnxruntime constant-folds, fuses (int8 chains into
// DynamicQuantizeMatMul, src/export/int8.ts) and lays convolutions out for the CPU (NCHWc) each time a model
// loads, which is most of a short file's wall time. onnxruntime writes the optimized graph when asked
// (SessionOptions.optimizedModelFilePath), and a session created from that file at level "disabled" runs the
// same graph without optimizing again (onnxruntime docs, "Graph optimizations": offline mode).
//
// onnxruntime warns that such a file "may contain hardware specific optimizations, and should only be used in
// the same environment the model was optimized in", so an entry is keyed by everything it depends on: the
// SHA-256 of the model's bytes, onnxruntime's version, the CPU (platform, architecture, model name and
// instruction-set flags: MLAS picks its kernels and the NCHWc block size from CPUID) and the session options.
// An entry is `<key>.onnx` (onnxruntime's file) and `<key>.json` (what the key was made of, the size and the
// SHA-256 of the .onnx), each written under a temporary name and renamed into place, the .json last. A hit is
// used only when the record matches and the bytes hash to the recorded SHA-256: the hash runs on libuv's
// thread pool (WebCrypto) while onnxruntime builds the session on this thread, and a session whose bytes do
// not match is released before it runs anything. Anything wrong with the cache (missing, stale, corrupt,
// unwritable, another process writing the same entry) falls back to an ordinary session at level "all",
// silently: the cache can make a start slower, never a result different or a translation fail.
import { webcrypto } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-common";
import { hiddenTempPath, writeFileAtomic } from "../formats/atomic-file.ts";

/** Bumped when the layout of an entry changes: entries of another format are never read. */
const CACHE_FORMAT = 1;
/** Entries kept; older ones (by last use) are removed when a new one is written. A small model's entry is ~3 MB, the shipped one's ~43 MB. */
const MAX_ENTRIES = 6;
/** Temporary files older than this are left over by killed processes and removed. */
const STALE_TEMP_MS = 10 * 60 * 1000;

/** What onnxruntime-node gives that this module uses. */
export interface OrtSessions {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  env: { versions: { node?: string; common?: string } };
}

/** How the session came about, for `nast translate --timings`. */
export type CacheOutcome = "hit" | "miss" | "off" | "unwritable";

/**
 * The cache directory: $XDG_CACHE_HOME/nast/onnxruntime, else ~/.cache/nast/onnxruntime (the XDG Base Directory
 * specification's default); undefined (no cache) when NAST_NO_CACHE is set to anything but "" or "0".
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const off = env.NAST_NO_CACHE;
  if (off !== undefined && off !== "" && off !== "0") return undefined;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "nast", "onnxruntime");
}

/** The CPU as far as onnxruntime's kernel choice can tell it apart. */
function cpuSignature(): string {
  const model = cpus()[0]?.model ?? "unknown";
  let flags = "";
  if (process.platform === "linux") {
    try {
      flags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "";
    } catch {
      flags = "";
    }
  }
  return `${process.platform} ${process.arch} ${model} ${flags}`;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
}

/** What an entry's key is made of, in a fixed key order. */
interface KeyParts {
  format: number;
  model: string;
  onnxruntime: string;
  cpu: string;
  options: string;
}

interface EntryRecord extends KeyParts {
  bytes: number;
  sha256: string;
}

function sameParts(r: unknown, parts: KeyParts): r is EntryRecord {
  if (r === null || typeof r !== "object") return false;
  const o = r as { [k: string]: unknown };
  return (Object.keys(parts) as (keyof KeyParts)[]).every((k) => o[k] === parts[k]) && Number.isInteger(o.bytes) && typeof o.sha256 === "string";
}

export interface CachedSessionArgs {
  ort: OrtSessions;
  /** The model's bytes, and their SHA-256 when already being computed (src/formats/model-package.ts). */
  model: Uint8Array;
  modelSha256?: Promise<string>;
  /** Options for the level-"all" session; the cache decides the level and where onnxruntime writes. */
  options: InferenceSession.SessionOptions;
  /** The cache directory; undefined: no cache (an ordinary session at level "all"). */
  dir: string | undefined;
}

/** A session of `model` at graph optimization level "all", from the cache when a valid entry is there. */
export async function createCachedSession(a: CachedSessionArgs): Promise<{ session: InferenceSession; cache: CacheOutcome }> {
  const options: InferenceSession.SessionOptions = { ...a.options, graphOptimizationLevel: "all" };
  if (a.dir === undefined) return { session: await a.ort.InferenceSession.create(a.model, options), cache: "off" };
  const dir = a.dir;
  let parts: KeyParts;
  let key: string;
  try {
    parts = {
      format: CACHE_FORMAT,
      model: await (a.modelSha256 ?? sha256(a.model)),
      onnxruntime: a.ort.env.versions.node ?? a.ort.env.versions.common ?? "unknown",
      cpu: cpuSignature(),
      options: JSON.stringify(Object.entries(options).sort(([x], [y]) => (x < y ? -1 : 1))),
    };
    key = await sha256(Buffer.from(JSON.stringify(parts)));
  } catch {
    return { session: await a.ort.InferenceSession.create(a.model, options), cache: "off" };
  }
  const hit = await fromCache(a.ort, dir, key, parts, options).catch(() => undefined);
  if (hit !== undefined) return { session: hit, cache: "hit" };
  return intoCache(a.ort, a.model, dir, key, parts, options);
}

/** The session of a valid entry, or undefined (a bad entry is removed). */
async function fromCache(ort: OrtSessions, dir: string, key: string, parts: KeyParts, options: InferenceSession.SessionOptions): Promise<InferenceSession | undefined> {
  const recordPath = join(dir, `${key}.json`);
  const graphPath = join(dir, `${key}.onnx`);
  let record: unknown;
  let graph: Buffer;
  try {
    record = JSON.parse(readFileSync(recordPath, "utf8"));
    graph = readFileSync(graphPath);
  } catch {
    return undefined;
  }
  if (!sameParts(record, parts) || graph.length !== record.bytes) return drop(dir, key);
  const digest = sha256(graph);
  let session: InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(graph, { ...options, graphOptimizationLevel: "disabled" });
  } catch {
    session = undefined;
  }
  const intact = await digest.then((d) => d === record.sha256, () => false);
  if (session === undefined || !intact) {
    await session?.release();
    return drop(dir, key);
  }
  try {
    // Last use, which pruning goes by.
    const now = new Date();
    utimesSync(recordPath, now, now);
  } catch {
    // A read-only cache still serves.
  }
  return session;
}

/** Removes a file if it can; a cache that cannot be cleaned up is still no reason to fail. */
function remove(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // ENOTDIR, EACCES, EROFS: nothing to remove, or nothing we may remove.
  }
}

function drop(dir: string, key: string): undefined {
  for (const ext of [".json", ".onnx"]) remove(join(dir, `${key}${ext}`));
  return undefined;
}

/** An ordinary session at level "all" that also writes its optimized graph into the cache. */
async function intoCache(
  ort: OrtSessions,
  model: Uint8Array,
  dir: string,
  key: string,
  parts: KeyParts,
  options: InferenceSession.SessionOptions,
): Promise<{ session: InferenceSession; cache: CacheOutcome }> {
  const graphPath = join(dir, `${key}.onnx`);
  const tmp = hiddenTempPath(graphPath);
  let session: InferenceSession;
  try {
    mkdirSync(dir, { recursive: true });
    // Level 3 (errors only) keeps onnxruntime's warning about hardware-specific files off stderr: the key says which hardware.
    session = await ort.InferenceSession.create(model, { ...options, optimizedModelFilePath: tmp, logSeverityLevel: 3 });
  } catch {
    remove(tmp);
    return { session: await ort.InferenceSession.create(model, options), cache: "unwritable" };
  }
  try {
    const graph = readFileSync(tmp);
    const record: EntryRecord = { ...parts, bytes: graph.length, sha256: await sha256(graph) };
    renameSync(tmp, graphPath);
    writeFileAtomic(join(dir, `${key}.json`), JSON.stringify(record), hiddenTempPath);
    prune(dir);
    return { session, cache: "miss" };
  } catch {
    remove(tmp);
    return { session, cache: "unwritable" };
  }
}

/** Keeps the MAX_ENTRIES entries used last and removes temporary files that killed processes left. */
function prune(dir: string): void {
  const entries: { key: string; used: number }[] = [];
  const now = Date.now();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const records = new Set(names.filter((n) => n.endsWith(".json")));
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (name.startsWith(".") && name.includes(".tmp-")) {
        if (now - st.mtimeMs > STALE_TEMP_MS) remove(path);
      } else if (name.endsWith(".json")) entries.push({ key: name.slice(0, -5), used: st.mtimeMs });
      else if (name.endsWith(".onnx") && !records.has(`${name.slice(0, -5)}.json`)) {
        // A graph whose record another process has not written yet, or never will.
        if (now - st.mtimeMs > STALE_TEMP_MS) remove(path);
      }
    } catch {
      // Removed by another process meanwhile.
    }
  }
  entries.sort((x, y) => y.used - x.used);
  for (const e of entries.slice(MAX_ENTRIES)) drop(dir, e.key);
}
