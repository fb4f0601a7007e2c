// Bundles the browser page (src/web) into dist/web with esbuild: app.js from src/web/main.ts, beside the
// page's index.html and page.css. platform "browser" makes any node:* import in what the page pulls in a
// build error. onnxruntime-web is bundled in its "extern wasm" build (the onnxruntime-web-use-extern-wasm
// condition of its package.json exports), which loads ort-wasm-simd-threaded.{mjs,wasm} from
// env.wasm.wasmPaths at run time (`nast serve` serves them from node_modules), so its worker threads start
// from that file rather than from our bundle.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Builds dist/web under `root` (the repository). */
export async function buildWebPage(root) {
  const out = join(root, "dist", "web");
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, "src/web/main.ts") },
    outdir: out,
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "chrome110",
    conditions: ["onnxruntime-web-use-extern-wasm"],
    // wavefile's "module" entry has no default export, which src/audio/wav.ts imports as Node does (its "main").
    mainFields: ["browser", "main"],
    sourcemap: true,
    logLevel: "warning",
  });
  for (const file of ["index.html", "page.css"]) copyFileSync(join(root, "src/web", file), join(out, file));
}
