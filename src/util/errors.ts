// Errors that carry what went wrong, where (file, line, segment) and what to do about it.

/** Bad command-line usage: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A problem with one input (file, segment, line): the message names it; other inputs go on. */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`${input}: ${message}`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
