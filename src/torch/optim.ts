// Optimizers (Adam, Kingma & Ba 2015; AdamW, Loshchilov & Hutter 2019), the inverse-sqrt warm-up schedule
// (Vaswani et al. 2017; fairseq's inverse_sqrt) and global gradient-norm clipping. Composed from in-place
// libtorch ops under no-grad, with the update written exactly as torch.optim.Adam/AdamW compute it.
import { stack, zerosLike } from "./functional.ts";
import { noGrad } from "./runtime.ts";
import { callMany, callVoid, keep, tidy, Tensor } from "./tensor.ts";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Parameters by name (as Module.namedParameters gives them) or a plain list (named by index). */
export type ParamSource = Map<string, Tensor> | Tensor[];

function named(params: ParamSource): Map<string, Tensor> {
  return Array.isArray(params) ? new Map(params.map((p, i) => [String(i), p])) : new Map(params);
}

abstract class AdamBase {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken (the bias-correction exponent). */
  stepCount = 0;
  protected readonly params: Map<string, Tensor>;
  protected readonly expAvg = new Map<string, Tensor>();
  protected readonly expAvgSq = new Map<string, Tensor>();

  constructor(params: ParamSource, opts: AdamOptions, defaultDecay: number) {
    this.params = named(params);
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
  }

  /** How weight decay enters: Adam adds λθ to the gradient, AdamW shrinks θ by lr·λ before the step. */
  protected abstract decoupled: boolean;

  /**
   * One update of every parameter that has a gradient. Written with the multi-tensor `_foreach_*` ops: a
   * handful of calls per step whatever the number of parameters (one fused kernel per op on CUDA).
   */
  step(): void {
    this.stepCount += 1;
    const t = this.stepCount;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const stepSize = this.lr / bc1;
    noGrad(() =>
      tidy(() => {
        const ps: Tensor[] = [];
        let gs: Tensor[] = [];
        const ms: Tensor[] = [];
        const vs: Tensor[] = [];
        for (const [name, p] of this.params) {
          const g = p.grad;
          if (g === null) continue;
          ps.push(p);
          gs.push(g);
          ms.push(this.state(this.expAvg, name, p));
          vs.push(this.state(this.expAvgSq, name, p));
        }
        if (ps.length === 0) return;
        if (this.weightDecay !== 0) {
          if (this.decoupled) callVoid("aten::_foreach_mul_.Scalar", ps, 1 - this.lr * this.weightDecay);
          else gs = callMany("aten::_foreach_add.List", gs, ps, this.weightDecay);
        }
        callVoid("aten::_foreach_mul_.Scalar", ms, this.beta1);
        callVoid("aten::_foreach_add_.List", ms, gs, 1 - this.beta1);
        callVoid("aten::_foreach_mul_.Scalar", vs, this.beta2);
        callVoid("aten::_foreach_addcmul_.Scalar", vs, gs, gs, 1 - this.beta2);
        // denom = sqrt(v) / sqrt(1 − β2^t) + ε ; θ −= lr/(1 − β1^t) · m / denom  (as torch.optim.Adam)
        const denom = callMany("aten::_foreach_sqrt", vs);
        callVoid("aten::_foreach_div_.Scalar", denom, Math.sqrt(bc2));
        callVoid("aten::_foreach_add_.Scalar", denom, this.eps);
        callVoid("aten::_foreach_addcdiv_.Scalar", ps, ms, denom, -stepSize);
      }),
    );
  }

  private state(map: Map<string, Tensor>, name: string, p: Tensor): Tensor {
    let s = map.get(name);
    if (s === undefined) {
      s = keep(zerosLike(p));
      map.set(name, s);
    }
    return s;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params.values()) p.zeroGrad();
  }

  /** Moment estimates by "exp_avg.<param>" / "exp_avg_sq.<param>" (the optimizer's own tensors) and the step. */
  stateDict(): { step: number; tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    for (const [n, t] of this.expAvg) tensors.set(`exp_avg.${n}`, t);
    for (const [n, t] of this.expAvgSq) tensors.set(`exp_avg_sq.${n}`, t);
    return { step: this.stepCount, tensors };
  }

  /** Restores what stateDict gave (values copied). */
  loadStateDict(state: { step: number; tensors: Map<string, Tensor> }): void {
    this.stepCount = state.step;
    noGrad(() => {
      for (const [key, src] of state.tensors) {
        const dot = key.indexOf(".");
        const kind = key.slice(0, dot);
        const name = key.slice(dot + 1);
        const p = this.params.get(name);
        if (p === undefined || (kind !== "exp_avg" && kind !== "exp_avg_sq")) {
          throw new Error(`optimizer loadStateDict: unexpected entry "${key}"`);
        }
        this.state(kind === "exp_avg" ? this.expAvg : this.expAvgSq, name, p).copyInPlace(src);
      }
    });
  }

  dispose(): void {
    for (const t of this.expAvg.values()) t.dispose();
    for (const t of this.expAvgSq.values()) t.dispose();
    this.expAvg.clear();
    this.expAvgSq.clear();
  }
}

/** Adam with L2 weight decay added to the gradient (torch.optim.Adam). */
export class Adam extends AdamBase {
  protected decoupled = false;
  constructor(params: ParamSource, opts: AdamOptions = {}) {
    super(params, opts, 0);
  }
}

/** Adam with decoupled weight decay (torch.optim.AdamW; default λ = 0.01). */
export class AdamW extends AdamBase {
  protected decoupled = true;
  constructor(params: ParamSource, opts: AdamOptions = {}) {
    super(params, opts, 0.01);
  }
}

/**
 * Scales all gradients together so that their global L2 norm is at most `maxNorm`
 * (torch.nn.utils.clip_grad_norm_: coefficient maxNorm / (norm + 1e-6), clamped to 1). Returns the norm
 * before clipping.
 */
export function clipGradNorm(params: ParamSource, maxNorm: number): number {
  const list = Array.isArray(params) ? params : [...params.values()];
  return noGrad(() =>
    tidy(() => {
      const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const total = stack(callMany("aten::_foreach_norm.Scalar", grads, 2)).norm().item();
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) callVoid("aten::_foreach_mul_.Scalar", grads, coef);
      return total;
    }),
  );
}
