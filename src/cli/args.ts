// Flag parsing shared by the subcommands (node:util parseArgs; the conventions of docs/design.md §6): -h/--help
// prints the command's usage, a bad flag is a UsageError that carries the usage, and number flags are
// checked with one message.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { errorMessage, UsageError } from "../util/errors.ts";

const HELP = { help: { type: "boolean", short: "h" } } as const;

/**
 * parseArgs with -h/--help added to `config`'s options: when help is asked for, `usage` goes to stdout and
 * the result is undefined (the command then exits 0); parseArgs' errors (unknown flag, missing value) are
 * a UsageError showing `usage`. Callers: `const parsed = parseFlags(config, USAGE); if (!parsed) return 0;`
 */
export function parseFlags<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> | undefined {
  let parsed;
  try {
    parsed = parseArgs({ ...config, options: { ...config.options, ...HELP } });
  } catch (err) {
    throw new UsageError(`${errorMessage(err)}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return undefined;
  }
  return parsed as ReturnType<typeof parseArgs<T>>;
}

/** An integer flag's value, at least `min`; undefined when the flag was not given. */
export function intFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer >= ${min}, got '${value}'`);
  return n;
}

/** A finite number flag's value; undefined when the flag was not given. */
export function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}

/** parseArgs options of string flags, by name (`...stringFlags("beam", "top-k")`): one line for a command's many value flags. */
export function stringFlags<const N extends string>(...names: N[]): { [K in N]: { type: "string" } } {
  return Object.fromEntries(names.map((n) => [n, { type: "string" }])) as { [K in N]: { type: "string" } };
}

/** parseArgs options of boolean flags, by name. */
export function booleanFlags<const N extends string>(...names: N[]): { [K in N]: { type: "boolean" } } {
  return Object.fromEntries(names.map((n) => [n, { type: "boolean" }])) as { [K in N]: { type: "boolean" } };
}
