// Where the time of one command goes, stage by stage, as JSON lines on stderr (`nast translate --timings`):
// the measurement behind start-up work (docs/design.md §6.3). Times are milliseconds since the process started
// (performance.now() counts from performance.timeOrigin, the start of the process: Node's perf_hooks docs),
// so the first stage also shows what Node's own start and the loading of the bundle cost.
import { performance } from "node:perf_hooks";

export interface StageRecord {
  event: "stage";
  stage: string;
  /** When the stage began and how long it took, in ms since the process started. */
  start_ms: number;
  ms: number;
  [extra: string]: unknown;
}

/** Milliseconds to 0.1, as every record gives them. */
export const roundMs = (ms: number): number => Math.round(ms * 10) / 10;

/** Records stages and writes each as a JSON line when it ends; does nothing when not enabled. */
export class StageTimes {
  constructor(
    readonly enabled: boolean,
    private readonly write: (line: string) => void = (line) => void process.stderr.write(line),
  ) {}

  /** Reports Node's own start (until its bootstrap completed) and what came after it until now (loading the command). */
  startup(): void {
    if (!this.enabled) return;
    const boot = performance.nodeTiming.bootstrapComplete;
    this.emit({ event: "stage", stage: "node", start_ms: 0, ms: roundMs(boot) });
    this.emit({ event: "stage", stage: "load-command", start_ms: roundMs(boot), ms: roundMs(performance.now() - boot) });
  }

  /** Times `fn` (sync or async) as the stage `name`; `extra` fields are added to its record. */
  async time<T>(name: string, fn: () => T | Promise<T>, extra: Record<string, unknown> = {}): Promise<T> {
    if (!this.enabled) return fn();
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.emit({ event: "stage", stage: name, start_ms: roundMs(start), ms: roundMs(performance.now() - start), ...extra });
    }
  }

  /** A fact found out during stage `stage` (e.g. whether a cache served it), as its own record. */
  note(stage: string, fields: Record<string, unknown>): void {
    if (this.enabled) this.write(`${JSON.stringify({ event: "note", stage, ...fields })}\n`);
  }

  /** The whole process so far, as the stage "total". */
  total(): void {
    if (this.enabled) this.emit({ event: "stage", stage: "total", start_ms: 0, ms: roundMs(performance.now()) });
  }

  private emit(r: StageRecord): void {
    this.write(`${JSON.stringify(r)}\n`);
  }
}
