// The cache of optimized onnxruntime graphs (src/infer/session-cache.ts): a second session comes from the cache
// and computes exactly what a fresh level-"all" session computes; a damaged, truncated, stale or foreign entry
// is never used but rebuilt; an unwritable cache still gives a working session; and `nast translate` prints the
// same with the cache (filled or being filled), with a damaged one and with --no-cache.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { createCachedSession, defaultCacheDir } from "../../src/infer/session-cache.ts";
import { fileIdentity, type FileIdentity } from "../../src/formats/file-memo.ts";
import { tinyModelPackage, type TinyModel } from "./fixtures.ts";
import { runNast as nast } from "../helpers/cli.ts";
import { OUTPUTS } from "../../src/infer/model-io.ts";

let work = "";
let model: TinyModel;
let bytes: Buffer;

before(() => {
  work = mkdtempSync(join(tmpdir(), "nast-session-cache-"));
  model = tinyModelPackage(join(work, "tiny"));
  bytes = readFileSync(join(model.dir, "model.onnx"));
});

after(() => rmSync(work, { recursive: true, force: true }));

const OPTIONS = { executionMode: "sequential", interOpNumThreads: 1, intraOpNumThreads: 1 } as const;

/** All outputs of the exported graph on a fixed batch of two utterances of different lengths. */
async function outputs(session: ort.InferenceSession): Promise<Float32Array[]> {
  const T = 97;
  const feats = Float32Array.from({ length: 2 * T * 80 }, (_, i) => Math.sin(i * 0.013) * 2);
  const out = await session.run({ feats: new ort.Tensor("float32", feats, [2, T, 80]), lengths: new ort.Tensor("int64", BigInt64Array.from([97n, 61n]), [2]) });
  return session.outputNames.map((n) => Float32Array.from(out[n]!.data as ArrayLike<number | bigint>, Number));
}

/** The entries' files (the remembered model hashes live in models/). */
function entries(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".json") || f.endsWith(".ort")).sort();
}

async function session(dir: string | undefined, model: Uint8Array = bytes, modelFile?: { path: string; identity: FileIdentity }) {
  return createCachedSession({ ort, model: () => model, options: OPTIONS, dir, ...(modelFile ? { modelFile } : {}) });
}

/** A record as if its graph had been hashed long after its last change: its identity is then trusted. */
/** A cache folder under `work` holding one entry, its graph and record paths, and the outputs of an uncached session. */
async function filledCache(name: string): Promise<{ dir: string; want: Float32Array[]; graph: string; record: string }> {
  const dir = join(work, name);
  const fresh = await session(undefined);
  const want = await outputs(fresh.session);
  await fresh.session.release();
  await (await session(dir)).session.release();
  const graph = join(dir, entries(dir).find((f) => f.endsWith(".ort"))!);
  return { dir, want, graph, record: graph.replace(/\.ort$/, ".json") };
}

function ageRecord(record: string): void {
  const r = JSON.parse(readFileSync(record, "utf8"));
  writeFileSync(record, JSON.stringify({ ...r, graph: { ...r.graph, hashedAt: Date.now() + 60_000 } }));
}

function identityOf(path: string): FileIdentity {
  return fileIdentity(statSync(path, { bigint: true }));
}

test("the second session comes from the cache and computes bit for bit what a fresh one does", async () => {
  const dir = join(work, "cache-a");
  const fresh = await session(undefined);
  assert.equal(fresh.cache, "off");
  const first = await session(dir);
  assert.equal(first.cache, "miss");
  const files = entries(dir);
  assert.equal(files.length, 2, files.join(", "));
  assert.ok(files.some((f) => f.endsWith(".json")) && files.some((f) => f.endsWith(".ort")));
  const second = await session(dir);
  assert.equal(second.cache, "hit");
  const want = await outputs(fresh.session);
  assert.deepEqual(await outputs(first.session), want);
  assert.deepEqual(await outputs(second.session), want);
  for (const s of [fresh, first, second]) await s.session.release();
});

test("a session from the cache keeps the graph bytes it runs on: it computes the same after a garbage collection", async () => {
  const { dir, want } = await filledCache("cache-gc");
  const hit = await session(dir);
  assert.equal(hit.cache, "hit");
  // The bytes onnxruntime reads its weights from in place are referenced by nothing here but the session.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  // Memory a collected buffer gave back would now hold these.
  const filler = Array.from({ length: 8 }, () => Buffer.alloc(statSync(join(dir, entries(dir).find((f) => f.endsWith(".ort"))!)).size, 0x7f));
  assert.deepEqual(await outputs(hit.session), want);
  assert.equal(filler.length, 8);
  await hit.session.release();
});

test("a damaged, truncated, foreign or stale entry is not used: it is rebuilt and the results stay the same", async () => {
  const { dir, want, graph, record } = await filledCache("cache-b");
  const damage: [string, () => void][] = [
    // One byte of a weight changed: still a loadable model, so only the recorded SHA-256 can tell.
    ["a flipped byte", () => {
      const b = readFileSync(graph);
      b[b.length >> 1] ^= 0x40;
      writeFileSync(graph, b);
    }],
    ["a truncated graph", () => truncateSync(graph, 1000)],
    ["garbage for a graph", () => writeFileSync(graph, Buffer.alloc(readFileSync(graph).length, 7))],
    ["a record of another onnxruntime", () => writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, "utf8")), onnxruntime: "0.0.1" }))],
    ["a record with another hash", () => {
      const r = JSON.parse(readFileSync(record, "utf8"));
      writeFileSync(record, JSON.stringify({ ...r, graph: { ...r.graph, sha256: "0".repeat(64) } }));
    }],
    ["a record that is not JSON", () => writeFileSync(record, "{")],
    ["a missing graph", () => rmSync(graph)],
  ];
  for (const [what, spoil] of damage) {
    spoil();
    const s = await session(dir);
    assert.equal(s.cache, "miss", `${what}: rebuilt`);
    assert.deepEqual(await outputs(s.session), want, `${what}: same results`);
    await s.session.release();
    const again = await session(dir);
    assert.equal(again.cache, "hit", `${what}: the rebuilt entry serves`);
    assert.deepEqual(await outputs(again.session), want);
    await again.session.release();
  }
});

test("a graph unchanged since it was hashed is used without hashing; a write to it still makes it rebuilt", async () => {
  const { dir, want, graph, record } = await filledCache("cache-trust");
  // Just written: the first hit hashes the graph again (its ctime is too recent to stand for it), and renews the record.
  const hashedAt = JSON.parse(readFileSync(record, "utf8")).graph.hashedAt as number;
  const first = await session(dir);
  assert.equal(first.cache, "hit");
  await first.session.release();
  assert.ok(JSON.parse(readFileSync(record, "utf8")).graph.hashedAt >= hashedAt);
  ageRecord(record);
  const trusted = await session(dir);
  assert.equal(trusted.cache, "hit");
  assert.deepEqual(await outputs(trusted.session), want);
  await trusted.session.release();
  // The same size, one byte different, the record aged: only the changed identity (ctime) can tell.
  const b = readFileSync(graph);
  b[b.length >> 1] ^= 0x40;
  writeFileSync(graph, b);
  ageRecord(record);
  const s = await session(dir);
  assert.equal(s.cache, "miss", "rebuilt");
  assert.deepEqual(await outputs(s.session), want);
  await s.session.release();
});

test("a model file replaced at the same path is hashed again, not taken for the one remembered there", async () => {
  const dir = join(work, "cache-memo");
  const path = join(work, "model-at-one-path.onnx");
  const other = readFileSync(join(tinyModelPackage(join(work, "tiny-3"), { seed: 3 }).dir, "model.onnx"));
  writeFileSync(path, bytes);
  await (await session(dir, bytes, { path, identity: identityOf(path) })).session.release();
  const memo = join(dir, "models", readdirSync(join(dir, "models"))[0]!);
  // As if hashed long after the file was written, so that its identity is trusted.
  writeFileSync(memo, JSON.stringify({ ...JSON.parse(readFileSync(memo, "utf8")), hashedAt: Date.now() + 60_000 }));
  const again = await session(dir, bytes, { path, identity: identityOf(path) });
  assert.equal(again.cache, "hit");
  await again.session.release();
  writeFileSync(path, other);
  const replaced = await session(dir, other, { path, identity: identityOf(path) });
  assert.equal(replaced.cache, "miss");
  const fresh = await session(undefined, other);
  assert.deepEqual(await outputs(replaced.session), await outputs(fresh.session));
  for (const x of [replaced, fresh]) await x.session.release();
});

test("another model gets its own entry; an unwritable cache gives an ordinary session", async () => {
  const dir = join(work, "cache-c");
  const other = tinyModelPackage(join(work, "tiny-2"), { seed: 2 });
  const otherBytes = readFileSync(join(other.dir, "model.onnx"));
  await (await session(dir)).session.release();
  const s = await session(dir, otherBytes);
  assert.equal(s.cache, "miss");
  assert.equal(entries(dir).length, 4);
  const fresh = await session(undefined, otherBytes);
  assert.deepEqual(await outputs(s.session), await outputs(fresh.session));
  for (const x of [s, fresh]) await x.session.release();

  const blocked = join(work, "a-file");
  writeFileSync(blocked, "not a directory");
  const u = await session(join(blocked, "cache"));
  assert.equal(u.cache, "unwritable");
  assert.equal((await outputs(u.session)).length, OUTPUTS.length);
  await u.session.release();
});

test("an entry of the earlier ONNX-graph format is removed, graph and record, when an entry is written", async () => {
  const dir = join(work, "cache-legacy");
  mkdirSync(dir, { recursive: true });
  const old = "ab".repeat(32);
  writeFileSync(join(dir, `${old}.onnx`), bytes);
  writeFileSync(join(dir, `${old}.json`), JSON.stringify({ format: 2 }));
  const s = await session(dir);
  assert.equal(s.cache, "miss");
  await s.session.release();
  assert.ok(!existsSync(join(dir, `${old}.onnx`)) && !existsSync(join(dir, `${old}.json`)));
  assert.equal(entries(dir).length, 2, "the new entry");
});

test("the cache directory follows XDG_CACHE_HOME, else ~/.cache; NAST_NO_CACHE turns it off", () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache" }), "/x/cache/nast/onnxruntime");
  assert.match(defaultCacheDir({})!, /\/\.cache\/nast\/onnxruntime$/);
  // The specification ignores a relative XDG_CACHE_HOME.
  assert.match(defaultCacheDir({ XDG_CACHE_HOME: "rel" })!, /\/\.cache\/nast\/onnxruntime$/);
  assert.equal(defaultCacheDir({ NAST_NO_CACHE: "1" }), undefined);
  assert.notEqual(defaultCacheDir({ NAST_NO_CACHE: "0" }), undefined);
});

test("nast translate with the shipped model: the same json with the cache filled, being filled, damaged, and off", () => {
  const home = join(work, "xdg");
  const env = { ...process.env, XDG_CACHE_HOME: home };
  const args = ["translate", "models/default/example.wav", "-f", "json", "--beam", "4"];
  const off = nast([...args, "--no-cache"], undefined, { env });
  assert.equal(off.code, 0, off.stderr);
  assert.ok(!existsSync(home), "--no-cache writes nothing");
  const filling = nast(args, undefined, { env });
  assert.equal(filling.code, 0, filling.stderr);
  assert.equal(filling.stderr, "", "no warning from onnxruntime about the file it writes");
  const dir = join(home, "nast", "onnxruntime");
  assert.equal(entries(dir).length, 4, "the model's and Silero VAD's entries");
  const filled = nast([...args, "--timings"], undefined, { env });
  assert.equal(filled.code, 0, filled.stderr);
  assert.match(filled.stderr, /"cache":"hit"/);
  // --timings also says where the translation's time went, stage by stage.
  const spent = /\{"event":"note","stage":"translate",("audio_ms":[\d.]+,"features_ms":[\d.]+,"network_ms":([\d.]+),"ctc_ms":[\d.]+)\}/.exec(filled.stderr);
  assert.ok(spent !== null && Number(spent[2]) > 0, filled.stderr);
  for (const f of entries(dir).filter((n) => n.endsWith(".ort"))) {
    const b = readFileSync(join(dir, f));
    b[b.length - 100] ^= 1;
    writeFileSync(join(dir, f), b);
  }
  const damaged = nast(args, undefined, { env });
  assert.equal(damaged.code, 0, damaged.stderr);
  assert.equal(filling.stdout, off.stdout);
  assert.equal(filled.stdout, off.stdout);
  assert.equal(damaged.stdout, off.stdout);
  assert.equal(nast([...args, "--no-cache"], undefined, { env: { ...env, NAST_NO_CACHE: "1" } }).stdout, off.stdout);
});
