// The translate path never loads libtorch: walking the value imports (static and dynamic) from the
// `nast translate` and `nast eval` entry points reaches no file under src/torch, no .node binding and no
// src/eager/; onnxruntime-node is loaded lazily, in two places only: the model's session
// (src/infer/session.ts) and Silero VAD's (src/infer/vad.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(new URL("../..", import.meta.url).pathname);

/** Module specifiers a file imports for their values (type-only imports are erased by the compiler). */
function valueImports(file: string): { spec: string; dynamic: boolean }[] {
  const text = readFileSync(file, "utf8");
  const out: { spec: string; dynamic: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"/gms)) if (!m[2]) out.push({ spec: m[3]!, dynamic: false });
  for (const m of text.matchAll(/^\s*import\s+"([^"]+)"/gm)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) out.push({ spec: m[1]!, dynamic: true });
  return out;
}

function closure(entry: string): { files: Set<string>; packages: Map<string, { from: string; dynamic: boolean }[]> } {
  const files = new Set<string>();
  const packages = new Map<string, { from: string; dynamic: boolean }[]>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const { spec, dynamic } of valueImports(file)) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (target.endsWith(".ts")) stack.push(target);
        else files.add(target);
      } else {
        const list = packages.get(spec) ?? [];
        list.push({ from: relative(root, file), dynamic });
        packages.set(spec, list);
      }
    }
  }
  return { files, packages };
}

for (const entry of ["src/cli/translate.ts", "src/cli/eval.ts"]) {
  test(`${entry} reaches neither libtorch nor onnxruntime eagerly`, () => {
    const { files, packages } = closure(join(root, entry));
    const rel = [...files].map((f) => relative(root, f));
    assert.ok(rel.includes("src/infer/translator.ts") && rel.includes("src/audio/decode.ts"), "the walk follows imports");
    const torch = rel.filter((f) => f.startsWith("src/torch/") || f.startsWith("src/eager/") || f.startsWith("kernels/") || f.endsWith(".node"));
    assert.deepEqual(torch, []);
    const ort = (packages.get("onnxruntime-node") ?? []).sort((x, y) => x.from.localeCompare(y.from));
    assert.deepEqual(ort, [
      { from: "src/infer/session.ts", dynamic: true },
      { from: "src/infer/vad.ts", dynamic: true },
    ]);
  });
}

test("src/model is the pure model definition: none of its files imports libtorch (src/torch) or src/eager", () => {
  const dir = join(root, "src/model");
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
  assert.ok(files.includes("nast.ts") && files.includes("params.ts"));
  const offending: string[] = [];
  for (const f of files) {
    for (const { spec } of valueImports(join(dir, f))) {
      const target = relative(root, resolve(dirname(join(dir, f)), spec));
      if (target.startsWith("src/torch") || target.startsWith("src/eager") || target.startsWith("kernels")) offending.push(`src/model/${f} → ${spec}`);
    }
  }
  assert.deepEqual(offending, []);
});
