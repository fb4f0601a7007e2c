// The one parser of the "nast.config" metadata key, read from checkpoints (train resume, export, load) and
// model packages (translate).
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONFIG_KEY, parseConfigMetadata } from "../../src/formats/nast-metadata.ts";

test("parseConfigMetadata: absent is undefined, JSON is parsed, anything else names the file", () => {
  assert.equal(parseConfigMetadata({ "nast.step": "3" }, "a.safetensors"), undefined);
  assert.deepEqual(parseConfigMetadata({ [CONFIG_KEY]: '{"vocabSize":8}' }, "a.safetensors"), { vocabSize: 8 });
  assert.throws(() => parseConfigMetadata({ "nast.config": "{oops" }, "m/model.onnx"), /^Error: m\/model\.onnx: its "nast\.config" metadata is not JSON \(/);
});
