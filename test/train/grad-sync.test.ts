// GradientBuckets (src/train/grad-sync.ts) on one Gloo rank, over updates whose parameters with and without a
// gradient change: the gradients come back bit for bit (signed zeros included), a parameter without one keeps
// none, and nothing of an earlier update stays in the reused buckets.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ProcessGroup } from "../../src/torch/distributed.ts";
import { GradientBuckets } from "../../src/train/grad-sync.ts";
import { keep, noGrad, tensor, tidy, type Tensor } from "../../src/torch/index.ts";

const scratch = mkdtempSync(join(tmpdir(), "nast-grad-sync-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const bits = (t: Tensor) => Array.from(new Uint32Array((t.to("cpu").data() as Float32Array).slice().buffer));

test("one rank: gradients unchanged bit for bit, none kept as none, across updates that reuse the buckets", () => {
  const group = ProcessGroup.create({ backend: "gloo", rendezvous: { kind: "file", path: join(scratch, "store") }, rank: 0, worldSize: 1, timeoutSeconds: 30, glooHost: "127.0.0.1" });
  // 8-byte buckets: "a" and "b" share one, "c" is alone.
  const sync = new GradientBuckets(group, 8, "cpu");
  const params = new Map([
    ["a", keep(tensor(Float32Array.from([1]), { shape: [1] }))],
    ["b", keep(tensor(Float32Array.from([2]), { shape: [1] }))],
    ["c", keep(tensor(Float32Array.from([3, 4, 5, 6]), { shape: [2, 2] }))],
  ]);
  const updates: Record<string, number[] | null>[] = [
    { a: [-0], b: [0.5], c: [1, -0, 0, -2] },
    { a: null, b: [7], c: [-0, -0, -0, -0] },
    { a: [3], b: null, c: null },
  ];
  for (const [u, grads] of updates.entries()) {
    noGrad(() => {
      for (const [name, p] of params) {
        const g = grads[name];
        p.grad = g === null ? null : tensor(Float32Array.from(g), { shape: p.shape });
      }
    });
    const expected = tidy(() => new Map([...params].map(([n, p]) => [n, p.grad === null ? null : bits(p.grad)])));
    assert.deepEqual(sync.reduce(params, [u, 2.5]), [u, 2.5]);
    assert.equal(sync.last.buckets, 2);
    tidy(() => {
      for (const [name, p] of params) assert.deepEqual(p.grad === null ? null : bits(p.grad), expected.get(name), `update ${u + 1}, ${name}`);
    });
  }
  group.destroy();
});
