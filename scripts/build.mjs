// Bundles the `nast` command into dist/cli.js with esbuild (no type checking here: `npm run typecheck` does that),
// and the page of `nast serve` into dist/web (./web-bundle.mjs).
// Native and heavy packages stay external: onnxruntime-node is loaded only on the translate path,
// and the libtorch binding is found at run time under kernels/build.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { buildWebPage } from "./web-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  // nast prep runs talks, nast train collates batches in worker threads: each worker is its own entry point
  // beside the CLI (src/util/spawn-worker.ts finds it there).
  entryPoints: {
    cli: join(root, "src/cli/main.ts"),
    "prep-worker": join(root, "src/data/prep-worker.ts"),
    "collate-worker": join(root, "src/train/collate-worker.ts"),
  },
  outdir: join(root, "dist"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["onnxruntime-node", "*.node"],
  banner: { js: "import { createRequire as __nastCreateRequire } from 'node:module'; const require = __nastCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
await buildWebPage(root);
