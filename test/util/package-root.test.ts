// The one package root that the model package (models/default) and the libtorch kernels (kernels/build) are
// found under: the directory of the package.json named "nast", not merely the nearest package.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/util/package-root.ts";
import { defaultModelDir } from "../../src/formats/model-package.ts";

test("packageRoot is the directory of nast's package.json; models/default lies under it", () => {
  const root = packageRoot();
  assert.equal((JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string }).name, "nast");
  assert.equal(defaultModelDir(), join(root, "models", "default"));
});
