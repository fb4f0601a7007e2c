// Bucketed all-reduce of the gradients of a data-parallel update (the buckets of torch DDP, after backward):
// the trainable parameters' gradients are flattened into buckets of about `bucketMb` MB, every bucket's sum
// over the ranks is started at once (with one small float64 all-reduce of the update's counts beside them),
// then all are waited for, and each parameter's .grad becomes its view of the summed bucket (no copy back).
//
// A parameter that got no gradient on this rank contributes zeros; one that got none on any rank keeps none,
// so that Adam skips it exactly as it would in one process (src/torch/optim.ts).
//
// The sum is what one process computes with --accum: each rank's losses are already divided by the whole
// update's token count (src/train/update.ts).
import type { ProcessGroup, Work } from "../torch/distributed.ts";
import type { GradientSync } from "./update.ts";
import { cat, noGrad, tensor, tidy, zeros, type Tensor } from "../torch/index.ts";

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
  private plan: string[][] = [];
  private planKey = "";
  /** Timing of the last reduce(). */
  last: ReduceTiming = { commMs: 0, buckets: 0 };

  constructor(
    private readonly group: ProcessGroup,
    private readonly bucketBytes: number,
    private readonly device: string,
  ) {}

  /**
   * Sums the gradients of `params` over the ranks in place, and `counts` with them; returns the summed counts.
   * Every rank must call it with the same parameter names in the same order.
   */
  reduce(params: Map<string, Tensor>, counts: number[]): number[] {
    const names = [...params.keys()];
    const key = names.join("\n");
    if (key !== this.planKey) {
      this.plan = planBuckets(names.map((n) => ({ name: n, bytes: params.get(n)!.numel * 4 })), this.bucketBytes);
      this.planKey = key;
    }
    return noGrad(() =>
      tidy(() => {
        const index = new Map(names.map((n, i) => [n, i]));
        const had = new Float64Array(names.length);
        const flats = this.plan.map((bucket) =>
          cat(
            bucket.map((name) => {
              const p = params.get(name)!;
              const g = p.grad;
              if (g !== null) had[index.get(name)!] = 1;
              return (g ?? zeros(p.shape, { dtype: "float32", device: p.device })).flatten();
            }),
          ),
        );
        const stats = tensor(Float64Array.from([...counts, ...had]), { dtype: "float64", device: this.device });
        const t0 = performance.now();
        const works: Work[] = [this.group.allReduce([stats]), ...flats.map((f) => this.group.allReduce([f]))];
        for (const w of works) w.wait();
        this.last = { commMs: performance.now() - t0, buckets: flats.length };
        const summed = Array.from(stats.to("cpu").data() as Float64Array);
        this.plan.forEach((bucket, b) => {
          let offset = 0;
          for (const name of bucket) {
            const p = params.get(name)!;
            const n = p.numel;
            p.grad = summed[counts.length + index.get(name)!]! > 0 ? flats[b]!.narrow(0, offset, n).view(p.shape) : null;
            offset += n;
          }
        });
        return summed.slice(0, counts.length);
      }),
    );
  }

  average(tensors: Tensor[]): void {
    this.group.allReduce(tensors, "avg").wait();
  }
}
