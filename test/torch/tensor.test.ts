// Tensor handles: memory scopes, the live-tensor count, autograd bookkeeping and errors as JS Errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cudaAvailable,
  disposeAll,
  isGradEnabled,
  keep,
  liveTensors,
  noGrad,
  ones,
  tensor,
  tidy,
  zeros,
  call,
  type Tensor,
} from "../../src/torch/index.ts";
import { TEST_DEVICE } from "./helpers.ts";

test("tidy frees intermediates and keeps what it returns", () => {
  const before = liveTensors();
  const [a, b] = tidy(() => {
    const x = ones([4]);
    const y = x.add(1).mul(3);
    const z = y.sub(x);
    return [y, { nested: z }] as const;
  });
  assert.equal(liveTensors(), before + 2);
  assert.deepEqual(a.toArray(), [6, 6, 6, 6]);
  assert.deepEqual(b.nested.toArray(), [5, 5, 5, 5]);
  disposeAll([a, b]);
  assert.equal(liveTensors(), before);
});

test("nested tidy moves returned tensors to the outer scope; keep() exempts", () => {
  const before = liveTensors();
  let kept: Tensor | undefined;
  const out = tidy(() => {
    const inner = tidy(() => ones([2]).mul(2));
    kept = keep(zeros([1]));
    assert.equal(inner.disposed, false);
    return undefined;
  });
  assert.equal(out, undefined);
  assert.equal(kept!.disposed, false);
  assert.equal(liveTensors(), before + 1);
  kept!.dispose();
  kept!.dispose(); // idempotent
  assert.equal(liveTensors(), before);
});

test("tidy disposes everything when its body throws", () => {
  const before = liveTensors();
  assert.throws(() =>
    tidy(() => {
      ones([3]).add(1);
      throw new Error("boom");
    }),
  /boom/);
  assert.equal(liveTensors(), before);
});

test("use after dispose is a JS error naming the operation", () => {
  const x = ones([2]);
  x.dispose();
  assert.throws(() => x.add(1), /aten::add\.Scalar: use of a disposed tensor/);
  assert.throws(() => x.toArray(), /use of a disposed tensor/);
});

test("libtorch errors become JS errors with the op name and libtorch's message", () =>
  tidy(() => {
    const a = ones([2, 3]);
    const b = ones([4, 5]);
    assert.throws(() => a.matmul(b), (e: Error) => /^aten::matmul: /.test(e.message) && /mat1 and mat2 shapes|size mismatch|shapes cannot be multiplied/.test(e.message));
    assert.throws(() => a.add(ones([4])), /aten::add\.Tensor: The size of tensor a \(3\) must match the size of tensor b \(4\)/);
    // dtype error: index_select needs an integer index
    assert.throws(() => a.indexSelect(0, ones([1])), /aten::index_select: .*(int32 or int64|Long|Int|not implemented for 'Float')/);
    assert.throws(() => a.reshape([7]), /aten::reshape: shape '\[7\]' is invalid for input of size 6/);
    assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /3 values given for shape \[2,2\]/);
    assert.throws(() => call("aten::no_such_op", a), /aten::no_such_op/);
    if (!cudaAvailable()) {
      assert.throws(() => a.to("cuda"), /aten::to\.device: .*(CUDA|cuda)/);
      assert.throws(() => zeros([2], { device: "cuda" }), /aten::zeros: .*(CUDA|cuda)/);
    }
    // the process survives and the binding still works
    assert.deepEqual(a.sum().toArray(), [6]);
  }));

test("autograd: requiresGrad, backward with a gradient, grad accumulation, zeroGrad, detach, noGrad", () =>
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    assert.equal(x.requiresGrad, true);
    const y = x.mul(x); // dy/dx = 2x
    y.backward(tensor([1, 0.5, 2], { dtype: "float64" }));
    assert.deepEqual(x.grad!.toArray(), [2, 2, 12]);
    x.mul(3).sum().backward(); // accumulates +3
    assert.deepEqual(x.grad!.toArray(), [5, 5, 15]);
    x.zeroGrad();
    assert.equal(x.grad, null);
    assert.equal(x.detach().requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    const z = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return x.mul(2);
    });
    assert.equal(z.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    const s = x.sum();
    s.backward(undefined, { retainGraph: true });
    s.backward();
    assert.deepEqual(x.grad!.toArray(), [2, 2, 2]);
    assert.throws(() => x.mul(x).backward(), /backward: grad can be implicitly created only for scalar outputs/);
  }));

test("metadata: shape, dtype, device, item", () =>
  tidy(() => {
    const x = zeros([2, 3], { dtype: "int32" });
    assert.deepEqual(x.shape, [2, 3]);
    assert.equal(x.dtype, "int32");
    assert.ok(x.device.startsWith(TEST_DEVICE), x.device);
    assert.equal(x.ndim, 2);
    assert.equal(tensor([42]).item(), 42);
    assert.match(x.toString(), /shape=\[2,3\], dtype=int32, device=(cpu|cuda)/);
  }));
