// Network building blocks with named parameters, state dicts and train/eval mode, initialised as torch.nn
// initialises them (so that a model built here starts from the same distributions as the reference).
import { DTYPE_CODE, type DType } from "./dtype.ts";
import { batchNorm, conv1d, dropout, embedding, full, layerNorm, linear, ones, rand, randn, zeros } from "./functional.ts";
import { noGrad } from "./runtime.ts";
import { keep, tidy, Tensor, type Device } from "./tensor.ts";

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable leaf tensor (taken out of any scope, marked requiresGrad). */
  protected param(name: string, t: Tensor): Tensor {
    keep(t);
    if (!t.requiresGrad) t.setRequiresGrad(true);
    this.#params.set(name, t);
    return t;
  }

  /** Registers a non-trainable state tensor (running statistics). */
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** A parameter or buffer of this module (not of children) by its local name. */
  protected get(name: string): Tensor {
    const t = this.#params.get(name) ?? this.#buffers.get(name);
    if (t === undefined) throw new Error(`${this.constructor.name}: no tensor "${name}"`);
    return t;
  }

  /** Trainable parameters by dotted name ("layers.0.weight"). */
  namedParameters(prefix = ""): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.#params) out.set(prefix + n, t);
    for (const [c, m] of this.#children) for (const [n, t] of m.namedParameters(`${prefix}${c}.`)) out.set(n, t);
    return out;
  }

  namedBuffers(prefix = ""): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.#buffers) out.set(prefix + n, t);
    for (const [c, m] of this.#children) for (const [n, t] of m.namedBuffers(`${prefix}${c}.`)) out.set(n, t);
    return out;
  }

  parameters(): Tensor[] {
    return [...this.namedParameters().values()];
  }

  /** Parameters and buffers by name: the module's own tensors (not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the module's tensors (dtype converted, shapes must match). Strict: every name must be
   * present on both sides.
   */
  loadStateDict(state: Map<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k));
      const unexpected = [...state.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing [${missing.join(", ")}], unexpected [${unexpected.join(", ")}]`);
      }
    }
    noGrad(() => {
      for (const [name, t] of own) {
        const src = state.get(name);
        if (src === undefined) continue;
        if (src.shape.join() !== t.shape.join()) {
          throw new Error(`loadStateDict: "${name}" has shape [${src.shape}], the module expects [${t.shape}]`);
        }
        t.copyInPlace(src);
      }
    });
  }

  train(on = true): this {
    this.training = on;
    for (const m of this.#children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Moves (or converts) every parameter and buffer; parameters stay trainable leaves. */
  to(target: Device | DType): this {
    const floatOnly = target in DTYPE_CODE;
    noGrad(() => {
      for (const map of [this.#params, this.#buffers]) {
        for (const [name, t] of map) {
          if (floatOnly && !(t.dtype === "float32" || t.dtype === "float64" || t.dtype === "float16" || t.dtype === "bfloat16")) continue;
          const moved = keep(t.to(target));
          if (map === this.#params) moved.setRequiresGrad(true);
          t.dispose();
          map.set(name, moved);
        }
      }
    });
    for (const m of this.#children.values()) m.to(target);
    return this;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    for (const t of this.#buffers.values()) t.dispose();
    for (const m of this.#children.values()) m.dispose();
  }
}

/** U(−bound, bound), as torch's kaiming_uniform_(a=√5) gives for weights and its default bias init. */
function uniform(shape: number[], bound: number): Tensor {
  return tidy(() => rand(shape).mul(2 * bound).sub(bound));
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param("weight", uniform([outFeatures, inFeatures], bound));
    this.bias = opts.bias === false ? undefined : this.param("bias", uniform([outFeatures], bound));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.get("weight"), this.bias === undefined ? undefined : this.get("bias"));
  }
}

export class LayerNorm extends Module {
  constructor(
    dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.param("weight", ones([dim]));
    this.param("bias", zeros([dim]));
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.get("weight"), this.get("bias"), this.eps);
  }
}

export class Conv1d extends Module {
  readonly hasBias: boolean;
  constructor(
    inChannels: number,
    outChannels: number,
    readonly kernelSize: number,
    readonly opts: { stride?: number; padding?: number; groups?: number; bias?: boolean } = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv1d: channels ${inChannels}→${outChannels} are not divisible by groups=${groups}`);
    }
    const bound = 1 / Math.sqrt((inChannels / groups) * kernelSize);
    this.param("weight", uniform([outChannels, inChannels / groups, kernelSize], bound));
    this.hasBias = opts.bias !== false;
    if (this.hasBias) this.param("bias", uniform([outChannels], bound));
  }
  forward(x: Tensor): Tensor {
    return conv1d(x, this.get("weight"), this.hasBias ? this.get("bias") : undefined, this.opts);
  }
}

export class Embedding extends Module {
  constructor(
    num: number,
    dim: number,
    readonly paddingIdx = -1,
  ) {
    super();
    const w = this.param("weight", randn([num, dim]));
    if (paddingIdx >= 0) {
      noGrad(() => {
        const row = w.narrow(0, paddingIdx, 1);
        row.zeroInPlace();
        row.dispose();
      });
    }
  }
  forward(indices: Tensor): Tensor {
    return embedding(this.get("weight"), indices, this.paddingIdx);
  }
}

/** Batch normalization over (B, C) or (B, C, T); running statistics as torch.nn.BatchNorm1d. */
export class BatchNorm1d extends Module {
  constructor(
    channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.param("weight", ones([channels]));
    this.param("bias", zeros([channels]));
    this.buffer("running_mean", zeros([channels]));
    this.buffer("running_var", ones([channels]));
    this.buffer("num_batches_tracked", full([], 0, { dtype: "int64" }));
  }
  forward(x: Tensor): Tensor {
    if (this.training) noGrad(() => this.get("num_batches_tracked").addInPlace(1));
    return batchNorm(
      x,
      this.get("running_mean"),
      this.get("running_var"),
      this.get("weight"),
      this.get("bias"),
      this.training,
      this.momentum,
      this.eps,
    );
  }
}

export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
