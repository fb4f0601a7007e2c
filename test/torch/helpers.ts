// Shared checks for the libtorch tests: closeness of arrays and finite-difference gradients in float64.
// NAST_TEST_DEVICE=cuda runs every test file that imports this on the GPU (tensors are created there by
// default); CI has no GPU and uses the CPU.
import assert from "node:assert/strict";
import { setDefaultDevice, tensor, tidy, type Tensor } from "../../src/torch/index.ts";

export const TEST_DEVICE = process.env.NAST_TEST_DEVICE ?? "cpu";
setDefaultDevice(TEST_DEVICE);

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = (Number.isNaN(e) && Number.isNaN(a)) || a === e || Math.abs(a - e) <= tol * (1 + Math.abs(e));
    assert.ok(ok, `${what}[${i}]: ${a} != ${e} (tol ${tol})`);
  }
}

/** Deterministic pseudo-random values in [-1, 1) (xorshift), so tests need no seed plumbing. */
export function pseudoRandom(n: number, seed = 1): number[] {
  let s = seed * 2654435761 >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push((s / 4294967296) * 2 - 1);
  }
  return out;
}

export interface GradInput {
  values: number[];
  shape: number[];
}

/**
 * Compares the autograd gradient of sum(f(inputs) · w) (w fixed pseudo-random weights, so every output
 * element matters) with central finite differences, in float64.
 */
export function checkGradient(f: (xs: Tensor[]) => Tensor, inputs: GradInput[], tol = 1e-6, h = 1e-6): void {
  tidy(() => {
    const xs = inputs.map((i) => tensor(i.values, { shape: i.shape, dtype: "float64", requiresGrad: true }));
    const out0 = f(xs);
    const w = tensor(pseudoRandom(out0.numel, 7), { shape: out0.shape, dtype: "float64" });
    const objective = (vals: number[][]): number =>
      tidy(() => {
        const ys = vals.map((v, k) => tensor(v, { shape: inputs[k]!.shape, dtype: "float64" }));
        return f(ys).mul(w).sum().item();
      });
    out0.mul(w).sum().backward();
    inputs.forEach((inp, k) => {
      const analytic = xs[k]!.grad!.toArray();
      const numeric = inp.values.map((_, j) => {
        const plus = inputs.map((i) => i.values.slice());
        const minus = inputs.map((i) => i.values.slice());
        plus[k]![j]! += h;
        minus[k]![j]! -= h;
        return (objective(plus) - objective(minus)) / (2 * h);
      });
      assertClose(analytic, numeric, tol, `gradient of input ${k}`);
    });
  });
}
