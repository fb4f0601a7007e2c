// Where nast's own files (models/default, kernels/build, eval/pytorch) sit: the directory of the package.json
// named "nast" above this module, which is the same whether it runs from src/ (tsx) or from the dist/ bundle.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (the directory of nast's package.json), found from this module's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "nast") return dir;
      } catch {
        // Not ours; keep walking up.
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find nast's package root (its package.json) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
