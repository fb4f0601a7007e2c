// A cache of the graphs onnxruntime optimizes when a session is created, so that a second `nast translate`
// starts without redoing the work: at level "all" onnxruntime constant-folds, fuses (int8 chains into
// DynamicQuantizeMatMul, src/export/int8.ts) and lays convolutions out for the CPU (NCHWc) each time a model
// loads, which is most of a short file's wall time. onnxruntime writes the optimized graph when asked
// (SessionOptions.optimizedModelFilePath), and a session created from that file at level "disabled" runs the
// same graph without optimizing again (onnxruntime docs, "Graph optimizations": offline mode). The file is written
// in onnxruntime's own format (ORT, a flatbuffer; session.save_model_format) rather than as ONNX protobuf: a session
// then reads its initializers in place from the bytes given (session.use_ort_model_bytes_directly and
// use_ort_model_bytes_for_initializers) instead of parsing a protobuf and copying every weight, and computes bit for
// bit the same: the shipped model's session took 157-207 ms against 202-292 ms (`nast translate --timings`, stage
// "session", 1 s and 60 s files, five alternating runs each on the 2-core machine, README), for ~30 MB more peak
// memory. Those bytes must outlive the session, so each such session keeps them (GRAPH_BYTES).
//
// onnxruntime warns that such a file "may contain hardware specific optimizations, and should only be used in
// the same environment the model was optimized in", so an entry is keyed by everything it depends on: the
// SHA-256 of the model's bytes, onnxruntime's version, the CPU (platform, architecture, model name and
// instruction-set flags: MLAS picks its kernels and the NCHWc block size from CPUID) and the session options.
// An entry is `<key>.ort` (onnxruntime's file) and `<key>.json` (what the key was made of, and the size, SHA-256
// and file identity of the .ort), each written under a temporary name and renamed into place, the .json last.
//
// Hashing costs about as much as the optimizing it saves (SHA-256 of the shipped 30 MB model and of its 43 MB
// optimized graph: ~60 ms of CPU), so each hash is taken once per version of a file: its unchanged identity
// stands for it (src/formats/file-memo.ts, after git's index); otherwise it is hashed again (on libuv's thread
// pool, WebCrypto, while onnxruntime builds the session on this thread) and the record renewed. A model's hash is
// remembered per path (a FileMemo in `models/`), so a hit reads neither the model nor its bytes. A hit is used only
// when the record matches and the graph is, by identity or by hash, the one recorded; a session whose bytes do
// not match is released before it runs anything. Anything wrong with the cache (missing, stale, corrupt,
// unwritable, another process writing the same entry) falls back to an ordinary session at level "all",
// silently: the cache can make a start slower, never a result different or a translation fail.
import { webcrypto } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-common";
import { hiddenTempPath, writeFileAtomic } from "../formats/atomic-file.ts";
import { FileMemo, fileIdentity, isFileIdentity, sameIdentity, unchangedSince, type FileIdentity } from "../formats/file-memo.ts";

/** Bumped when the layout of an entry changes: entries of another format are never read (2: ONNX graphs). */
const CACHE_FORMAT = 3;
/** The name ending of an entry's graph file (ORT format). */
const GRAPH_EXT = ".ort";
/** Entries kept; older ones (by last use) are removed when a new one is written. A small model's entry is ~3 MB, the shipped one's ~43 MB. */
const MAX_ENTRIES = 6;
/** Temporary files older than this are left over by killed processes and removed. */
const STALE_TEMP_MS = 10 * 60 * 1000;

/** What onnxruntime-node gives that this module uses. */
export interface OrtSessions {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  env: { versions: { node?: string; common?: string } };
}

/**
 * The bytes a session from the cache was created from, by session: onnxruntime reads its weights from them for as
 * long as the session lives (use_ort_model_bytes_for_initializers), so they must not be collected before it is.
 */
const GRAPH_BYTES = new WeakMap<InferenceSession, Uint8Array>();

/** `options` with more "session.*" config entries, beside the ones they have. */
function withSessionEntries(options: InferenceSession.SessionOptions, entries: Record<string, string>): InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as { session?: Record<string, string> };
  return { ...options, extra: { ...extra, session: { ...extra.session, ...entries } } };
}

/** The session options that let onnxruntime run an ORT-format graph from `bytes` in place, without copies. */
function inPlaceOptions(options: InferenceSession.SessionOptions): InferenceSession.SessionOptions {
  return { ...withSessionEntries(options, { use_ort_model_bytes_directly: "1", use_ort_model_bytes_for_initializers: "1" }), graphOptimizationLevel: "disabled" };
}

/** The options of the session that writes the optimized graph, in ORT format, to `path`. */
function savingOptions(options: InferenceSession.SessionOptions, path: string): InferenceSession.SessionOptions {
  // Level 3 (errors only) keeps onnxruntime's warning about hardware-specific files off stderr: the key says which hardware.
  return { ...withSessionEntries(options, { save_model_format: "ORT" }), optimizedModelFilePath: path, logSeverityLevel: 3 };
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

/** A file's SHA-256, the file's identity when it was hashed, and when that was (ms since the epoch). */
interface Hashed {
  sha256: string;
  identity: FileIdentity;
  hashedAt: number;
}

interface EntryRecord extends KeyParts {
  graph: Hashed;
}

function isHashed(h: unknown): h is Hashed {
  if (h === null || typeof h !== "object") return false;
  const o = h as { [k: string]: unknown };
  return isSha256(o.sha256) && typeof o.hashedAt === "number" && isFileIdentity(o.identity);
}

function isSha256(x: unknown): x is string {
  return typeof x === "string" && /^[0-9a-f]{64}$/.test(x);
}

function sameParts(r: unknown, parts: KeyParts): r is EntryRecord {
  if (r === null || typeof r !== "object") return false;
  const o = r as { [k: string]: unknown };
  return (Object.keys(parts) as (keyof KeyParts)[]).every((k) => o[k] === parts[k]) && isHashed(o.graph);
}

/** The bytes of `path` and its identity, read through one descriptor; undefined when it changed meanwhile. */
function readWithIdentity(path: string): { bytes: Buffer; identity: FileIdentity } | undefined {
  const fd = openSync(path, "r");
  try {
    const before = fileIdentity(fstatSync(fd, { bigint: true }));
    const bytes = Buffer.allocUnsafe(Number(before.size));
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0) return undefined;
      off += n;
    }
    const after = fileIdentity(fstatSync(fd, { bigint: true }));
    return sameIdentity(before, after) ? { bytes, identity: after } : undefined;
  } finally {
    closeSync(fd);
  }
}

function identityOf(path: string): FileIdentity {
  return fileIdentity(statSync(path, { bigint: true }));
}

/**
 * The SHA-256 of a model's bytes: remembered for its file when the file is unchanged since it was hashed,
 * else computed (and remembered).
 */
async function modelSha256(dir: string, model: () => Uint8Array, file: { path: string; identity: FileIdentity } | undefined): Promise<string> {
  if (file === undefined) return sha256(model());
  const memo = new FileMemo(join(dir, "models"), isSha256);
  const known = memo.recall(file.path, file.identity);
  if (known !== undefined) return known;
  const hashedAt = Date.now();
  const digest = await sha256(model());
  memo.remember(file.path, file.identity, hashedAt, digest);
  return digest;
}

export interface CachedSessionArgs {
  ort: OrtSessions;
  /**
   * The model's bytes, asked for only when they are needed (a model not hashed before, or an entry to build), and
   * the file they come from with its identity (src/formats/model-package.ts).
   */
  model: () => Uint8Array;
  modelFile?: { path: string; identity: FileIdentity };
  /** Options for the level-"all" session; the cache decides the level and where onnxruntime writes. */
  options: InferenceSession.SessionOptions;
  /** The cache directory; undefined: no cache (an ordinary session at level "all"). */
  dir: string | undefined;
}

/** A session of `model` at graph optimization level "all", from the cache when a valid entry is there. */
export async function createCachedSession(a: CachedSessionArgs): Promise<{ session: InferenceSession; cache: CacheOutcome }> {
  const options: InferenceSession.SessionOptions = { ...a.options, graphOptimizationLevel: "all" };
  if (a.dir === undefined) return { session: await a.ort.InferenceSession.create(a.model(), options), cache: "off" };
  const dir = a.dir;
  let parts: KeyParts;
  let key: string;
  try {
    parts = {
      format: CACHE_FORMAT,
      model: await modelSha256(dir, a.model, a.modelFile),
      onnxruntime: a.ort.env.versions.node ?? a.ort.env.versions.common ?? "unknown",
      cpu: cpuSignature(),
      options: JSON.stringify(Object.entries(options).sort(([x], [y]) => (x < y ? -1 : 1))),
    };
    key = await sha256(Buffer.from(JSON.stringify(parts)));
  } catch {
    return { session: await a.ort.InferenceSession.create(a.model(), options), cache: "off" };
  }
  const hit = await fromCache(a.ort, dir, key, parts, options).catch(() => undefined);
  if (hit !== undefined) return { session: hit, cache: "hit" };
  return intoCache(a.ort, a.model(), dir, key, parts, options);
}

/** The session of a valid entry, or undefined (a bad entry is removed). */
async function fromCache(ort: OrtSessions, dir: string, key: string, parts: KeyParts, options: InferenceSession.SessionOptions): Promise<InferenceSession | undefined> {
  const recordPath = join(dir, `${key}.json`);
  const graphPath = join(dir, `${key}${GRAPH_EXT}`);
  let record: unknown;
  let read: ReturnType<typeof readWithIdentity>;
  try {
    record = JSON.parse(readFileSync(recordPath, "utf8"));
    read = readWithIdentity(graphPath);
  } catch {
    return undefined;
  }
  if (!sameParts(record, parts) || read === undefined || String(read.bytes.length) !== record.graph.identity.size) return drop(dir, key);
  const { bytes, identity } = read;
  const trusted = unchangedSince(record.graph.identity, record.graph.hashedAt, identity);
  const hashedAt = Date.now();
  const digest = trusted ? undefined : sha256(bytes);
  let session: InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(bytes, inPlaceOptions(options));
    GRAPH_BYTES.set(session, bytes);
  } catch {
    session = undefined;
  }
  const intact = trusted || (await digest!.then((d) => d === record.graph.sha256, () => false));
  if (session === undefined || !intact) {
    await session?.release();
    return drop(dir, key);
  }
  try {
    if (!trusted) {
      // Hashed and found intact: its identity now stands for the hash (once old enough: src/formats/file-memo.ts).
      const renewed: EntryRecord = { ...record, graph: { sha256: record.graph.sha256, identity, hashedAt } };
      writeFileAtomic(recordPath, JSON.stringify(renewed), hiddenTempPath);
    } else {
      // Last use, which pruning goes by.
      const now = new Date();
      utimesSync(recordPath, now, now);
    }
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
  for (const ext of [".json", GRAPH_EXT]) remove(join(dir, `${key}${ext}`));
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
  const graphPath = join(dir, `${key}${GRAPH_EXT}`);
  const tmp = hiddenTempPath(graphPath);
  let session: InferenceSession;
  try {
    mkdirSync(dir, { recursive: true });
    session = await ort.InferenceSession.create(model, savingOptions(options, tmp));
  } catch {
    remove(tmp);
    return { session: await ort.InferenceSession.create(model, options), cache: "unwritable" };
  }
  try {
    const hashedAt = Date.now();
    const graph = readFileSync(tmp);
    const digest = await sha256(graph);
    renameSync(tmp, graphPath);
    // Written just now, so the next hit hashes it once more before trusting its identity (RACY_MS, src/formats/file-memo.ts).
    const record: EntryRecord = { ...parts, graph: { sha256: digest, identity: identityOf(graphPath), hashedAt } };
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
  // Entries of format 2 (ONNX graphs, `<key>.onnx`) are never read again: removed, graph and record.
  const legacy = new Set(names.filter((n) => n.endsWith(".onnx")).map((n) => n.slice(0, -".onnx".length)));
  for (const key of legacy) for (const ext of [".json", ".onnx"]) remove(join(dir, `${key}${ext}`));
  const records = new Set(names.filter((n) => n.endsWith(".json")));
  for (const name of names) {
    if (name === "models" || legacy.has(name.slice(0, name.lastIndexOf(".")))) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (name.startsWith(".") && name.includes(".tmp-")) {
        if (now - st.mtimeMs > STALE_TEMP_MS) remove(path);
      } else if (name.endsWith(".json")) entries.push({ key: name.slice(0, -5), used: st.mtimeMs });
      else if (name.endsWith(GRAPH_EXT) && !records.has(`${name.slice(0, -GRAPH_EXT.length)}.json`)) {
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
