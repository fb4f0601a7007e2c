// "extends" in a config file: a relative path is relative to the folder of the file that holds it, at every
// level of a chain, whatever the current directory; a preset name still means the preset; cycles are found
// through any spelling of the same file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadConfig } from "../../src/model/config.ts";

test("a relative \"extends\" resolves against the config file's folder, not the current directory", () => {
  const root = mkdtempSync(join(tmpdir(), "nast-extends-"));
  try {
    mkdirSync(join(root, "base"));
    mkdirSync(join(root, "exp", "run1"), { recursive: true });
    writeFileSync(join(root, "base", "root.json"), JSON.stringify({ extends: "tiny", vocabSize: 321 }));
    writeFileSync(join(root, "base", "mid.json"), JSON.stringify({ extends: "root.json", dropout: 0.25 }));
    writeFileSync(join(root, "exp", "run1", "exp.json"), JSON.stringify({ extends: "../../base/mid.json", train: { lr: 2e-3 } }));
    // Named relative to the current directory (the repository root while testing), far from the files.
    const cfg = loadConfig(relative(process.cwd(), join(root, "exp", "run1", "exp.json")));
    assert.equal(cfg.vocabSize, 321, "the chain reached base/root.json through base/mid.json");
    assert.equal(cfg.dropout, 0.25);
    assert.equal(cfg.train?.lr, 2e-3);
    assert.equal(cfg.dModel, loadConfig("tiny").dModel);

    // A preset name wins over a file of that name beside the config.
    writeFileSync(join(root, "exp", "small"), "not json");
    writeFileSync(join(root, "exp", "preset.json"), JSON.stringify({ extends: "small" }));
    assert.equal(loadConfig(join(root, "exp", "preset.json")).dModel, loadConfig("small").dModel);

    // A missing parent is named by the path looked for; a cycle spelled two ways is still a cycle.
    writeFileSync(join(root, "exp", "lost.json"), JSON.stringify({ extends: "nowhere.json" }));
    assert.throws(() => loadConfig(join(root, "exp", "lost.json")), (e: Error) => e.message.startsWith(`${join(root, "exp", "nowhere.json")}: cannot read the config`));
    writeFileSync(join(root, "exp", "a.json"), JSON.stringify({ extends: "./run1/../b.json" }));
    writeFileSync(join(root, "exp", "b.json"), JSON.stringify({ extends: "a.json" }));
    assert.throws(() => loadConfig(join(root, "exp", "a.json")), /"extends" forms a cycle/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
