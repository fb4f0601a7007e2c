// The streaming writers give the bytes of the whole-result renderings (json also as an element of an
// array), and OutputFile writes a file completely or not at all: a temporary file next to the target,
// put in place on commit; an existing target kept without `force`, a symbolic link refused even with
// it; a write or fsync that fails (ENOSPC, EIO, simulated through the file operations it is given)
// leaves no temporary file and names the target.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkOutputDir, OutputFile, NODE_FS, type OutputFs } from "../../src/infer/writers.ts";
import { render, resultWriter, FORMATS, type FileResult } from "../../src/infer/result-formats.ts";

let dir = "";
before(() => (dir = fs.mkdtempSync(join(tmpdir(), "nast-writers-"))));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const results: FileResult[] = [
  {
    file: "talk.wav",
    duration: 3725.5,
    model: "models/default",
    segments: [
      { start: 0.5, end: 2.25, source: "hello world", translation: "hola mundo", words: [{ word: "hola", start: 0.6, end: 0.9 }] },
      { start: 3, end: 3.5, source: "", translation: "", words: [] },
      { start: 3661.042, end: 3662, source: "bye \"x\"", translation: "adiós\n--> ya", words: [] },
    ],
    translation: "hola mundo adiós\n--> ya",
  },
  { file: "-", duration: 2, model: "m", segments: [], translation: "" },
  {
    file: "x.wav",
    duration: 2,
    model: "m",
    segments: [
      { start: 0.2, end: 0.9, source: "", translation: "two\n\nparagraphs" },
      { start: 1.2, end: 1.2, source: "", translation: "zero length" },
      { start: 1.5, end: 9, source: "", translation: "past the end" },
      { start: 2, end: 2, source: "", translation: "at the very end" },
    ],
    translation: "",
  },
];

function streamed(format: (typeof FORMATS)[number], r: FileResult, opts = {}): string {
  let out = "";
  const w = resultWriter(format, (t) => void (out += t), opts);
  w.begin(r);
  for (const s of r.segments) w.segment(s);
  w.end(r.translation);
  return out;
}

test("each format written segment by segment is byte for byte its rendering of the whole result", () => {
  for (const r of results) for (const f of FORMATS) assert.equal(streamed(f, r), render(f, r), `${f} of ${r.file}`);
  const array = `[\n${results.map((r) => streamed("json", r, { indent: "  ", trailer: "" })).join(",\n")}\n]\n`;
  assert.equal(array, `${JSON.stringify(results, null, 2)}\n`);
});

const listing = (d: string): string[] => fs.readdirSync(d).sort();

test("OutputFile: complete or absent; an existing file kept without force, replaced with it; links refused", () => {
  const d = join(dir, "basic");
  fs.mkdirSync(d);
  const path = join(d, "a.json");
  const f = OutputFile.create(path);
  f.write("{\n");
  assert.deepEqual(listing(d), [f.tmp.slice(d.length + 1)], "only a temporary file while writing");
  f.write("}\n");
  f.commit();
  assert.equal(fs.readFileSync(path, "utf8"), "{\n}\n");
  assert.deepEqual(listing(d), ["a.json"]);

  assert.throws(() => OutputFile.create(path), new RegExp(`^InputError: ${path}: already exists; kept as it is \\(--force replaces it\\)$`));
  const g = OutputFile.create(path, { force: true });
  g.write("new\n");
  assert.equal(fs.readFileSync(path, "utf8"), "{\n}\n", "the old file stays until commit");
  g.commit();
  assert.equal(fs.readFileSync(path, "utf8"), "new\n");

  // A target that appears while the file is written is not overwritten without force.
  const late = join(d, "late.txt");
  const h = OutputFile.create(late);
  h.write("mine\n");
  fs.writeFileSync(late, "theirs\n");
  assert.throws(() => h.commit(), /late\.txt: already exists; kept as it is/);
  assert.equal(fs.readFileSync(late, "utf8"), "theirs\n");

  const link = join(d, "link.txt");
  fs.symlinkSync(join(d, "a.json"), link);
  for (const force of [false, true]) assert.throws(() => OutputFile.create(link, { force }), /link\.txt: is a symbolic link/);
  assert.equal(fs.readFileSync(path, "utf8"), "new\n");
  assert.deepEqual(listing(d), ["a.json", "late.txt", "link.txt"], "no temporary file left");
});

/** node:fs, except that writes fail after `budget` bytes (ENOSPC) or fsync fails (EIO). */
function failingFs(fail: { budget?: number; fsync?: boolean }): OutputFs {
  let left = fail.budget ?? Infinity;
  const err = (code: string, text: string, call: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: ${text}, ${call}`), { code, syscall: call });
  return {
    ...NODE_FS,
    writeSync: (fd, buffer, offset, length) => {
      if (left <= 0) throw err("ENOSPC", "no space left on device", "write");
      const n = fs.writeSync(fd, buffer, offset, Math.min(length, left));
      left -= n;
      return n;
    },
    fsyncSync: (fd) => {
      if (fail.fsync) throw err("EIO", "i/o error", "fsync");
      fs.fsyncSync(fd);
    },
  };
}

test("OutputFile: a full disk or an I/O error leaves no temporary file, names the target, keeps an old file", () => {
  const d = join(dir, "failing");
  fs.mkdirSync(d);
  const path = join(d, "talk.srt");
  fs.writeFileSync(path, "old\n");
  const f = OutputFile.create(path, { force: true, fs: failingFs({ budget: 10 }) });
  f.write("0123456");
  assert.throws(() => f.write("789abcdef"), new RegExp(`^InputError: ${path}: cannot write it \\(no space left on device \\(ENOSPC\\)\\); nothing was written$`));
  assert.deepEqual(listing(d), ["talk.srt"]);
  assert.equal(fs.readFileSync(path, "utf8"), "old\n");

  const g = OutputFile.create(join(d, "new.json"), { fs: failingFs({ fsync: true }) });
  g.write("{}\n");
  assert.throws(() => g.commit(), /new\.json: cannot write it \(i\/o error \(EIO\)\); nothing was written$/);
  assert.deepEqual(listing(d), ["talk.srt"]);
});

test("checkOutputDir: creates the directory; refuses a file, and a directory that takes no files", () => {
  const d = join(dir, "made", "here");
  checkOutputDir(d);
  assert.ok(fs.statSync(d).isDirectory());
  assert.deepEqual(listing(d), [], "the check leaves nothing behind");
  const file = join(dir, "plain");
  fs.writeFileSync(file, "");
  assert.throws(() => checkOutputDir(file), /plain: is not a directory$/);
  const refusing: OutputFs = {
    ...NODE_FS,
    openSync: () => {
      throw Object.assign(new Error("EROFS: read-only file system, open"), { code: "EROFS" });
    },
  };
  assert.throws(() => checkOutputDir(d, refusing), /here: cannot create files in it \(read-only file system \(EROFS\)\)$/);
});
