// Logs are JSON lines (one object per event) so that `nast plot` and other tools can read them back;
// human-facing progress goes to stderr only when it is a terminal.
import { appendFileSync } from "node:fs";

export type LogRecord = Record<string, unknown>;

/** Appends JSON lines to a file (if given) and/or to a stream. */
export class JsonLogger {
  constructor(
    private readonly file?: string,
    private readonly stream?: NodeJS.WritableStream,
  ) {}

  log(event: string, fields: LogRecord = {}): void {
    const line = JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + "\n";
    if (this.file) appendFileSync(this.file, line);
    if (this.stream) this.stream.write(line);
  }
}
