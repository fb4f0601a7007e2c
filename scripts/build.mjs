// Bundles the `nast` command into dist/cli.js with esbuild (no type checking here: `npm run typecheck` does that),
// and the page of `nast serve` into dist/web (./web-bundle.mjs).
// Native and heavy packages stay external: onnxruntime-node is loaded only on the translate path,
// and the libtorch binding is found at run time under kernels/build.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { buildWebPage } from "./web-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist");
// Chunks are named by content hash: those of an earlier build would pile up (dist/web is the page's, below).
for (const name of (() => { try { return readdirSync(outdir); } catch { return []; } })()) {
  if (name.endsWith(".js") || name.endsWith(".js.map")) rmSync(join(outdir, name));
}
await build({
  // nast prep runs talks, nast train collates batches in worker threads: each worker is its own entry point
  // beside the CLI (src/util/spawn-worker.ts finds it there).
  entryPoints: {
    cli: join(root, "src/cli/main.ts"),
    "prep-worker": join(root, "src/data/prep-worker.ts"),
    "collate-worker": join(root, "src/train/collate-worker.ts"),
  },
  outdir,
  bundle: true,
  // Each subcommand's modules in chunks that load when it runs (src/cli/main.ts imports them on demand), so
  // that \`nast translate\` compiles only what translating needs, not the whole command. Chunks lie beside
  // cli.js, so import.meta.url keeps pointing into dist/ (src/util/spawn-worker.ts finds the workers there).
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["onnxruntime-node", "*.node"],
  banner: { js: "import { createRequire as __nastCreateRequire } from 'node:module'; const require = __nastCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
await buildWebPage(root);
