// The one check of a state dict against the config's parameters (no libtorch): what nast train, nast
// evaluate and nast export run on a checkpoint before using it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkParams, type ParamSpec } from "../../src/model/params.ts";

const specs: ParamSpec[] = [
  { name: "a.weight", shape: [2, 3], init: { kind: "zeros" } },
  { name: "a.bias", shape: [3], init: { kind: "zeros" } },
];

test("checkParams names missing, misshapen and (unless ignored) unexpected tensors", () => {
  const good = new Map([["a.weight", { shape: [2, 3] }], ["a.bias", { shape: [3] }]]);
  checkParams(specs, good, "ok.safetensors");
  const extra = new Map([...good, ["teacher.q", { shape: [1] }]]);
  assert.throws(() => checkParams(specs, extra, "x.safetensors"), /^Error: x\.safetensors: the weights do not match the model config: unexpected 'teacher\.q'$/);
  checkParams(specs, extra, "x.safetensors", { ignoreExtra: true });
  const bad = new Map([["a.weight", { shape: [3, 2] }]]);
  assert.throws(
    () => checkParams(specs, bad, "bad.safetensors", { ignoreExtra: true }),
    /'a\.weight' has shape \[3,2\] but the config needs \[2,3\]; 'a\.bias' is missing \(the config needs \[3\]\)/,
  );
});
