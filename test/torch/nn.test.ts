// nn blocks: forward against their functional definitions, parameter naming, state dicts, train/eval.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BatchNorm1d,
  Conv1d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  liveTensors,
  manualSeed,
  ones,
  tensor,
  tidy,
  type Tensor,
} from "../../src/torch/index.ts";
import { assertClose } from "./helpers.ts";

class Block extends Module {
  readonly proj: Linear;
  readonly norm: LayerNorm;
  readonly bn: BatchNorm1d;
  readonly drop: Dropout;
  constructor() {
    super();
    this.proj = this.child("proj", new Linear(4, 3));
    this.norm = this.child("norm", new LayerNorm(3));
    this.bn = this.child("bn", new BatchNorm1d(3));
    this.drop = this.child("drop", new Dropout(0.5));
  }
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.bn.forward(this.norm.forward(this.proj.forward(x))));
  }
}

test("modules name parameters and buffers like torch state dicts", () => {
  const before = liveTensors();
  const m = new Block();
  assert.deepEqual([...m.namedParameters().keys()], ["proj.weight", "proj.bias", "norm.weight", "norm.bias", "bn.weight", "bn.bias"]);
  assert.deepEqual([...m.namedBuffers().keys()], ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]);
  assert.equal(m.stateDict().size, 9);
  assert.ok(m.parameters().every((p) => p.requiresGrad));
  assert.deepEqual(m.proj.weight.shape, [3, 4]);
  m.dispose();
  assert.equal(liveTensors(), before);
});

test("initialisation follows torch.nn: Linear/Conv1d U(±1/sqrt(fan_in)), LayerNorm 1/0, Embedding N(0,1)", () => {
  manualSeed(0);
  const lin = new Linear(100, 50);
  const w = lin.weight.toArray();
  assert.ok(w.every((v) => Math.abs(v) <= 0.1) && Math.max(...w.map(Math.abs)) > 0.09);
  const conv = new Conv1d(8, 8, 5, { groups: 4 });
  const cw = conv.stateDict().get("weight")!;
  assert.deepEqual(cw.shape, [8, 2, 5]);
  assert.ok(cw.toArray().every((v) => Math.abs(v) <= 1 / Math.sqrt(10)));
  const ln = new LayerNorm(3);
  assert.deepEqual(ln.stateDict().get("weight")!.toArray(), [1, 1, 1]);
  assert.deepEqual(ln.stateDict().get("bias")!.toArray(), [0, 0, 0]);
  const emb = new Embedding(1000, 4, 0);
  const ew = emb.stateDict().get("weight")!;
  tidy(() => {
    assert.deepEqual(ew.narrow(0, 0, 1).toArray(), [0, 0, 0, 0], "padding row is zero");
    assert.ok(Math.abs(ew.square().mean().item() - 1) < 0.1);
  });
  assert.throws(() => new Conv1d(3, 4, 3, { groups: 2 }), /not divisible by groups=2/);
  for (const m of [lin, conv, ln, emb]) m.dispose();
});

test("forwards equal their definitions; train/eval switches dropout and batch norm", () =>
  tidy(() => {
    const lin = new Linear(2, 2);
    lin.loadStateDict(new Map([["weight", tensor([[1, 2], [3, 4]])], ["bias", tensor([1, -1])]]));
    assert.deepEqual(lin.forward(tensor([[1, 1]])).toArray(), [4, 6]);
    const conv = new Conv1d(1, 1, 2, { bias: false });
    conv.loadStateDict(new Map([["weight", tensor([[[1, -1]]])]]));
    assert.deepEqual(conv.forward(tensor([[[1, 4, 9]]])).toArray(), [-3, -5]);
    const emb = new Embedding(3, 2);
    emb.loadStateDict(new Map([["weight", tensor([[0, 1], [2, 3], [4, 5]])]]));
    assert.deepEqual(emb.forward(tensor([2, 0], { dtype: "int64" })).toArray(), [4, 5, 0, 1]);

    const m = new Block();
    const x = tensor([[1, 2, 3, 4], [4, 3, 2, 1], [0, 1, 0, 1]]);
    m.eval();
    assert.equal(m.bn.training, false);
    const a = m.forward(x).toArray();
    const b = m.forward(x).toArray();
    assert.deepEqual(a, b, "eval is deterministic");
    m.train();
    m.forward(x);
    const bnState = m.bn.stateDict();
    assert.equal(bnState.get("num_batches_tracked")!.item(), 1);
    assert.notDeepEqual(bnState.get("running_mean")!.toArray(), [0, 0, 0]);
    for (const mod of [lin, conv, emb, m]) mod.dispose();
  }));

test("loadStateDict checks names and shapes", () => {
  const lin = new Linear(2, 2);
  assert.throws(() => lin.loadStateDict(new Map([["weight", ones([2, 2])]])), /missing \[bias\]/);
  assert.throws(
    () => tidy(() => lin.loadStateDict(new Map([["weight", ones([3, 2])], ["bias", ones([2])]]))),
    /"weight" has shape \[3,2\], the module expects \[2,2\]/,
  );
  tidy(() => {
    lin.loadStateDict(new Map([["weight", ones([2, 2], { dtype: "float64" })], ["bias", ones([2])]]));
    assertClose(lin.weight.toArray(), [1, 1, 1, 1]);
    assert.equal(lin.weight.dtype, "float32", "values are converted to the parameter's dtype");
  });
  lin.to("float64");
  assert.equal(lin.stateDict().get("weight")!.dtype, "float64");
  assert.equal(lin.stateDict().get("weight")!.requiresGrad, true);
  lin.dispose();
});
