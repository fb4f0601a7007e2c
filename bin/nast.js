#!/usr/bin/env node
// Entry point of the `nast` command: runs the bundle that `npm run build` writes.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write("nast: dist/cli.js is missing; run `npm run build` after `npm ci`.\n");
  process.exit(2);
}
await import(bundle.href);
