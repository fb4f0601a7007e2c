// Flag parsing shared by the subcommands (node:util parseArgs, the conventions of the team plan): a bad
// flag is a UsageError that carries the command's usage, and number flags are checked with one message.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { errorMessage, UsageError } from "../util/errors.ts";

/** parseArgs, with its errors (unknown flag, missing value) turned into a UsageError showing `usage`. */
export function parseFlags<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(`${errorMessage(err)}\n\n${usage}`);
  }
}

/** An integer flag's value, at least `min`; undefined when the flag was not given. */
export function intFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer >= ${min}, got '${value}'`);
  return n;
}
