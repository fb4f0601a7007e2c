// A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY (piped, CI, tests).

export interface ProgressOptions {
  total: number;
  label: string;
  unit?: string;
  /** Force on or off; default: on when stderr is a TTY. */
  enabled?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.enabled = opts.enabled ?? Boolean(process.stderr.isTTY);
  }

  tick(n = 1, note = ""): void {
    this.done += n;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && this.done < this.opts.total) return;
    this.lastDraw = now;
    this.draw(note);
  }

  finish(note = ""): void {
    if (!this.enabled) return;
    this.draw(note);
    process.stderr.write("\n");
  }

  private draw(note: string): void {
    const { total, label, unit = "" } = this.opts;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (total - this.done) / rate : 0;
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const text = `${label} [${bar}] ${this.done}/${total}${unit} ${rate.toFixed(1)}${unit}/s eta ${eta.toFixed(0)}s ${note}`;
    process.stderr.write(`\r${text.slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
  }
}
