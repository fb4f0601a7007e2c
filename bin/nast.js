#!/usr/bin/env node
// Entry point of the `nast` command: runs the bundle that `npm ci` (the prepare script) builds.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write("nast: dist/cli.js is missing; run `npm run build` (npm ci runs it for you).\n");
  process.exit(2);
}
await import(bundle.href);
