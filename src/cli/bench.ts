// `nast bench kernels|infer|train|lisa|speedup [--json]`: each benchmark lives in its own module.
import { UsageError } from "../util/errors.ts";

const benches: Record<string, () => Promise<{ run: (argv: string[]) => Promise<number> }>> = {
  kernels: () => import("./bench-kernels.ts"),
  infer: () => import("./bench-infer.ts"),
  train: () => import("./bench-train.ts"),
  lisa: () => import("./bench-lisa.ts"),
  speedup: () => import("./bench-speedup.ts"),
};

export async function run(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  const usage = `usage: nast bench ${Object.keys(benches).join("|")} [--json]`;
  if (which === "--help" || which === "-h") {
    process.stdout.write(`${usage}     (nast bench <benchmark> --help for its options)\n`);
    return 0;
  }
  const load = which === undefined ? undefined : benches[which];
  if (load === undefined) {
    throw new UsageError(usage);
  }
  return (await load()).run(rest);
}
