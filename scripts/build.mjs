// Bundles the `nast` command into dist/cli.js with esbuild (no type checking here: `npm run typecheck` does that).
// Native and heavy packages stay external: onnxruntime-node is loaded only on the translate path,
// and the libtorch binding is found at run time under kernels/build.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  outfile: join(root, "dist/cli.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["onnxruntime-node", "*.node"],
  banner: { js: "import { createRequire as __nastCreateRequire } from 'node:module'; const require = __nastCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
