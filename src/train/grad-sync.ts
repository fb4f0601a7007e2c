// Bucketed all-reduce of the gradients of a data-parallel update (the buckets of torch DDP, after backward):
// the trainable parameters' gradients are added into flat buckets of about `bucketMb` MB, every bucket's sum
// over the ranks is started at once (with one small float64 all-reduce of the update's counts beside them),
// then all are waited for, and each parameter's .grad becomes its view of the summed bucket (no copy back).
//
// The buckets and the views of them are made once per set of trainable parameters and reused by every update,
// so that the host work per update is a few multi-tensor calls, not several calls per parameter (on a GPU the
// step is host-bound at our sizes). Autograd still leaves each backward's gradients in tensors of its own: the
// views cannot be the gradients' storage from the start (torch DDP's gradient_as_bucket_view), because a
// parameter that got no gradient (drop-net skips a layer's self-attention, src/model/layers.ts) would then look
// like one whose gradient is zero, and Adam steps the latter but skips the former.
//
// A parameter that got no gradient on this rank contributes −0 (x + −0 = x exactly, signed zeros included); one
// that got none on any rank keeps none, so that Adam skips it exactly as it would in one process
// (src/torch/optim.ts).
//
// The sum is what one process computes with --accum: each rank's losses are already divided by the whole
// update's token count (src/train/update.ts).
import type { ProcessGroup, Work } from "../torch/distributed.ts";
import type { GradientSync } from "./update.ts";
import { callVoid, disposeAll, keep, noGrad, tensor, tidy, zeros, type Tensor } from "../torch/index.ts";

/** Parameter names by bucket, in the order given, each bucket at most `bytes` (a larger tensor is a bucket alone). */
export function planBuckets(sizes: { name: string; bytes: number }[], bytes: number): string[][] {
  const buckets: string[][] = [];
  let current: string[] = [];
  let filled = 0;
  for (const { name, bytes: b } of sizes) {
    if (current.length > 0 && filled + b > bytes) {
      buckets.push(current);
      current = [];
      filled = 0;
    }
    current.push(name);
    filled += b;
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

export interface ReduceTiming {
  /** Milliseconds from the first collective started to the last one done. */
  commMs: number;
  buckets: number;
}

export class GradientBuckets implements GradientSync {
  private planKey = "";
  /** The flat buckets, and every parameter's view of its bucket (shaped as the parameter), in `reduce`'s order. */
  private buckets: Tensor[] = [];
  private views: Tensor[] = [];
  /** Timing of the last reduce(). */
  last: ReduceTiming = { commMs: 0, buckets: 0 };

  constructor(
    private readonly group: ProcessGroup,
    private readonly bucketBytes: number,
    private readonly device: string,
  ) {}

  /** Buckets and views for `params` (kept until the names change: a retro-fit's unfreezing, another bench preset). */
  private prepare(params: Map<string, Tensor>, names: string[]): void {
    const key = names.join("\n");
    if (key === this.planKey) return;
    disposeAll([this.views, this.buckets]);
    const plan = planBuckets(names.map((n) => ({ name: n, bytes: params.get(n)!.numel * 4 })), this.bucketBytes);
    this.buckets = plan.map((bucket) => keep(zeros([bucket.reduce((sum, n) => sum + params.get(n)!.numel, 0)], { dtype: "float32", device: this.device })));
    this.views = plan.flatMap((bucket, b) => {
      let offset = 0;
      return bucket.map((name) => {
        const p = params.get(name)!;
        const view = keep(this.buckets[b]!.narrow(0, offset, p.numel).view(p.shape));
        offset += p.numel;
        return view;
      });
    });
    this.planKey = key;
  }

  /**
   * Sums the gradients of `params` over the ranks in place, and `counts` with them; returns the summed counts.
   * Every rank must call it with the same parameter names in the same order.
   */
  reduce(params: Map<string, Tensor>, counts: number[]): number[] {
    const names = [...params.keys()];
    this.prepare(params, names);
    return noGrad(() =>
      tidy(() => {
        const ps = [...params.values()];
        const grads = ps.map((p) => p.grad);
        const had = Float64Array.from(grads, (g) => (g === null ? 0 : 1));
        // −0 everywhere (zero_ then neg_: a −0 scalar would reach libtorch as the integer 0), then this rank's gradients added.
        callVoid("aten::_foreach_zero_", this.buckets);
        callVoid("aten::_foreach_neg_", this.buckets);
        const present = grads.flatMap((g, i) => (g === null ? [] : [i]));
        if (present.length > 0) callVoid("aten::_foreach_add_.List", present.map((i) => this.views[i]!), present.map((i) => grads[i]!), 1);
        const stats = tensor(Float64Array.from([...counts, ...had]), { dtype: "float64", device: this.device });
        const t0 = performance.now();
        const works: Work[] = [this.group.allReduce([stats]), ...this.buckets.map((f) => this.group.allReduce([f]))];
        for (const w of works) w.wait();
        this.last = { commMs: performance.now() - t0, buckets: this.buckets.length };
        const summed = Array.from(stats.to("cpu").data() as Float64Array);
        ps.forEach((p, i) => {
          if (summed[counts.length + i]! > 0) p.grad = this.views[i]!;
        });
        return summed.slice(0, counts.length);
      }),
    );
  }

  average(tensors: Tensor[]): void {
    this.group.allReduce(tensors, "avg").wait();
  }
}
