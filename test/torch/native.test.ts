// Loading the binding: lazy, and one clear message when the kernels are missing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function runWith(env: Record<string, string>, code: string) {
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

test("importing src/torch does not load the binding; the first op without kernels says how to set up", () => {
  const code = `
    const torch = await import("./src/torch/index.ts");
    console.log("imported");
    try { torch.zeros([1]); } catch (e) { console.log(e.name + ": " + e.message); process.exit(3); }`;
  const r = runWith({ NAST_KERNELS: "/nonexistent/nast_torch.node" }, code);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /^imported\n/);
  assert.match(r.stdout, /KernelsUnavailableError: the libtorch kernels are not built \(\/nonexistent\/nast_torch\.node is missing\)/);
  assert.match(r.stdout, /apt-get install libtorch-dev libopenblas0-pthread/);
  assert.match(r.stdout, /npm run build:kernels/);
});

test("a file that is not a loadable addon gives the same advice with the loader's reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-native-"));
  try {
    const bad = join(dir, "nast_torch.node");
    writeFileSync(bad, "not an ELF file");
    const r = runWith({ NAST_KERNELS: bad }, `
      const torch = await import("./src/torch/index.ts");
      try { torch.zeros([1]); } catch (e) { console.log(e.message); process.exit(3); }`);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /^cannot load .*nast_torch\.node: .*(ELF|header|too short).*npm run build:kernels/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
