// Starts a worker-thread module the same way from the esbuild bundle and from source. In the bundle every
// worker is its own entry point beside dist/cli.js (scripts/build.mjs), and the caller's import.meta.url is
// the bundle's; under tsx a worker does not inherit the TypeScript loader, so it registers tsx first and
// then imports the .ts module beside the caller.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker running module `name` (e.g. "prep-worker") that lies beside `callerUrl` (the caller's
 * import.meta.url). Throws, saying what to do (`fallback`), when the bundle lacks the worker's file.
 */
export function spawnWorker(callerUrl: string, name: string, fallback: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith(".ts")) {
    const bundled = new URL(`./${name}.js`, callerUrl);
    if (!existsSync(bundled)) throw new Error(`${fileURLToPath(bundled)} is missing: the build must bundle ${name} beside the CLI (${fallback})`);
    return new Worker(bundled, options);
  }
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const source = new URL(`./${name}.ts`, callerUrl).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); })`, { ...options, eval: true });
}
