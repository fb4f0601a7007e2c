// The one atomic writer: whole files or nothing, a temporary file created anew (never through a planted
// link), removed when the write fails, under either temporary-name scheme.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hiddenTempPath, writeFileAtomic } from "../../src/formats/atomic-file.ts";

test("writes strings, bytes and chunks in order, replacing a link at the target rather than writing through it", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-atomic-"));
  try {
    const path = join(dir, "out.txt");
    writeFileAtomic(path, "héllo\n");
    assert.equal(readFileSync(path, "utf8"), "héllo\n");
    writeFileAtomic(path, [Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]);
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep");
    const linked = join(dir, "linked");
    symlinkSync(victim, linked);
    writeFileAtomic(linked, Uint8Array.of(9), hiddenTempPath);
    assert.equal(readFileSync(victim, "utf8"), "keep");
    assert.deepEqual([...readFileSync(linked)], [9]);
    assert.deepEqual(readdirSync(dir).sort(), ["linked", "out.txt", "victim"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a link planted at the temporary name is removed, not followed; a failed rename leaves no temporary file", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-atomic-"));
  try {
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep");
    const path = join(dir, "ckpt.safetensors");
    symlinkSync(victim, `${path}.tmp-${process.pid}`);
    writeFileAtomic(path, "model");
    assert.equal(readFileSync(victim, "utf8"), "keep");
    assert.equal(readFileSync(path, "utf8"), "model");
    const busy = join(dir, "busy");
    mkdirSync(join(busy, "full"), { recursive: true });
    assert.throws(() => writeFileAtomic(busy, "x", hiddenTempPath));
    assert.deepEqual(readdirSync(dir).sort(), ["busy", "ckpt.safetensors", "victim"]);
    assert.match(hiddenTempPath(join(dir, "feats.bin")), new RegExp(`/\\.feats\\.bin\\.tmp-${process.pid}-[0-9a-z]+$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
