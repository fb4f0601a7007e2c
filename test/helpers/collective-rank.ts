// One rank of the two-process c10d tests (test/torch/distributed.test.ts), started as a child process:
//   node --import tsx test/helpers/collective-rank.ts SCENARIO RANK WORLD STORE_FILE TIMEOUT_S
// prints one JSON line with what it saw. Scenarios: "ops" (every collective once), "stall" (rank 0 all-reduces,
// the others never join and sleep past the timeout).
import { CollectiveError, ProcessGroup } from "../../src/torch/distributed.ts";
import { tensor } from "../../src/torch/index.ts";

const [scenario, rankText, worldText, store, timeoutText] = process.argv.slice(2);
const rank = Number(rankText);
const worldSize = Number(worldText);
const group = ProcessGroup.create({ backend: "gloo", rendezvous: { kind: "file", path: store! }, rank, worldSize, timeoutSeconds: Number(timeoutText), glooHost: "127.0.0.1" });

if (scenario === "ops") {
  const sum = tensor(new Float32Array([rank + 1, 10 * (rank + 1), -0.5]));
  const wide = tensor(new Float64Array([1 / 3 + rank, 1e-12 * rank]));
  const avg = tensor(new Float32Array([rank, 2 * rank]));
  const max = tensor(new Float32Array([rank, -rank]));
  const works = [group.allReduce([sum, wide]), group.allReduce([avg], "avg"), group.allReduce([max], "max")];
  for (const w of works) w.wait();
  const fromLast = tensor(new Float32Array([rank, rank * 7]));
  group.broadcast([fromLast], worldSize - 1).wait();
  group.barrier();
  const out = { sum: sum.toArray(), wide: wide.toArray(), avg: avg.toArray(), max: max.toArray(), broadcast: fromLast.toArray() };
  group.destroy();
  process.stdout.write(JSON.stringify(out) + "\n");
} else if (scenario === "stall") {
  if (rank === 0) {
    const t0 = performance.now();
    try {
      group.allReduce([tensor(new Float32Array([1]))]).wait();
      process.stdout.write(JSON.stringify({ error: null }) + "\n");
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: (err as Error).message, name: (err as Error).name, collective: err instanceof CollectiveError, seconds: (performance.now() - t0) / 1000 }) + "\n");
    }
    process.exit(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  process.exit(0);
}
