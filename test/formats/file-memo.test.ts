// Facts remembered by file identity (src/formats/file-memo.ts) and the package's use of them: a memo stands for
// a file's checks only while the file is the one checked (same device, inode, size, mtime and ctime) and its
// ctime was already RACY_MS old when the fact was taken; anything else (a rewrite, a record for another path, a
// garbled record, a fact of the wrong form) means the fact is taken again. loadModelPackage with a memo folder
// then skips reading model.onnx, and reads it on first use only if the file is still the one checked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileMemo, RACY_MS, fileIdentity } from "../../src/formats/file-memo.ts";
import { loadModelPackage, ModelPackageError } from "../../src/formats/model-package.ts";
import { tinyModelPackage } from "../infer/fixtures.ts";

let work: string;
let model: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "nast-memo-"));
  model = tinyModelPackage(join(work, "fixture")).dir;
});
after(() => rmSync(work, { recursive: true, force: true }));

const isNumber = (v: unknown): v is number => typeof v === "number";
const identityOf = (path: string) => fileIdentity(statSync(path, { bigint: true }));
/** When a fact about `path` is trusted at the earliest: RACY_MS after its last change. */
const settled = (path: string) => Number(statSync(path, { bigint: true }).ctimeNs / 1_000_000n) + RACY_MS + 1;

test("FileMemo: a fact is recalled for the file it was taken of, once its change is RACY_MS old, and for no other", () => {
  const dir = join(work, "memo-basic");
  const file = join(work, "a.txt");
  writeFileSync(file, "one");
  const memo = new FileMemo(dir, isNumber);
  assert.equal(memo.recall(file, identityOf(file)), undefined, "nothing remembered yet");
  memo.remember(file, identityOf(file), Date.now(), 1);
  assert.equal(memo.recall(file, identityOf(file)), undefined, "taken within RACY_MS of the file's change: not trusted");
  memo.remember(file, identityOf(file), settled(file), 2);
  assert.equal(memo.recall(file, identityOf(file)), 2);
  assert.equal(memo.recall(join(work, "b.txt"), identityOf(file)), undefined, "another path");
  appendFileSync(file, "more");
  assert.equal(memo.recall(file, identityOf(file)), undefined, "rewritten: another identity");

  // A record that is not JSON, or whose value has the wrong form, is no fact.
  memo.remember(file, identityOf(file), settled(file), 3);
  const [record] = readdirSync(dir);
  const recordPath = join(dir, record!);
  const good = readFileSync(recordPath, "utf8");
  writeFileSync(recordPath, good.slice(0, 20));
  assert.equal(memo.recall(file, identityOf(file)), undefined);
  writeFileSync(recordPath, good.replace(/"value":3/, '"value":"3"'));
  assert.equal(memo.recall(file, identityOf(file)), undefined);
  writeFileSync(recordPath, good);
  assert.equal(memo.recall(file, identityOf(file)), 3);
});

test("FileMemo: at most 32 records are kept, the oldest removed; an unwritable folder only means no memo", () => {
  const dir = join(work, "memo-prune");
  const memo = new FileMemo(dir, isNumber);
  const file = join(work, "c.txt");
  writeFileSync(file, "c");
  for (let i = 0; i < 40; i++) memo.remember(`${file}.${i}`, identityOf(file), settled(file), i);
  assert.equal(readdirSync(dir).length, 32);
  const blocked = new FileMemo(join(file, "memo"), isNumber); // a folder under a regular file
  blocked.remember(file, identityOf(file), settled(file), 1);
  assert.equal(blocked.recall(file, identityOf(file)), undefined);
});

test("loadModelPackage with a memo: a trusted record stands for model.onnx's checks; its bytes are read on use, and refused once the file changed", () => {
  const dir = join(work, "pkg");
  cpSync(model, dir, { recursive: true });
  const memoDir = join(work, "pkg-memo");
  const plain = loadModelPackage(dir);
  const first = loadModelPackage(dir, { memoDir });
  assert.deepEqual(first.metadata, plain.metadata);
  assert.deepEqual(Buffer.from(first.onnx), Buffer.from(plain.onnx));

  // The record written just now is not trusted yet (the file is new): date it as if taken later, and mark its
  // metadata so that a load which uses it shows it.
  const checks = join(memoDir, "onnx-checks");
  const [name] = readdirSync(checks);
  const recordPath = join(checks, name!);
  const record = JSON.parse(readFileSync(recordPath, "utf8")) as { takenAt: number; value: { metadata: Record<string, string> } };
  record.takenAt = settled(join(dir, "model.onnx"));
  record.value.metadata["nast.memo-test"] = "remembered";
  writeFileSync(recordPath, JSON.stringify(record));
  const second = loadModelPackage(dir, { memoDir });
  assert.equal(second.metadata["nast.memo-test"], "remembered", "the checks came from the memo, not from reading model.onnx");
  assert.deepEqual(second.onnxFile, first.onnxFile);
  assert.deepEqual(Buffer.from(second.onnx), Buffer.from(plain.onnx), "read on first use");

  // The file changes after a trusted load: its bytes are refused by name; a new load checks the file again.
  const third = loadModelPackage(dir, { memoDir });
  appendFileSync(join(dir, "model.onnx"), Buffer.alloc(3));
  assert.throws(() => third.onnx, (e: Error) => e instanceof ModelPackageError && /model\.onnx: changed after it was checked; run the command again/.test(e.message));
  assert.throws(() => loadModelPackage(dir, { memoDir }), (e: Error) => e instanceof ModelPackageError && /model\.onnx/.test(e.message), "the appended bytes are no ONNX field: read and refused");
});
