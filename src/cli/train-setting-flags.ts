// The flags of `nast train` that set training settings, read from the table of src/train/settings.ts: their
// parseArgs options, their lines of the usage with the defaults, and their values as settings.
import { UsageError } from "../util/errors.ts";
import { checkFlag, parseFlagValue, SETTINGS, type Kind, type SettingKey } from "../train/settings.ts";

const KEYS = Object.keys(SETTINGS) as SettingKey[];

const METAVAR: Record<Kind, string> = { num: "X", int: "N", intOrNull: "N", bool: "", betas: "B1,B2", str: "S", strList: "LIST", decay: "S:E:R", pathOrNull: "FILE" };

/** parseArgs options: a string per setting, --FLAG and --no-FLAG per "bool" setting. */
export function settingOptions(): Record<string, { type: "string" | "boolean" }> {
  const out: Record<string, { type: "string" | "boolean" }> = {};
  for (const k of KEYS) {
    const { flag, kind } = SETTINGS[k];
    if (kind === "bool") {
      out[flag] = { type: "boolean" };
      out[`no-${flag}`] = { type: "boolean" };
    } else out[flag] = { type: "string" };
  }
  return out;
}

function shown(v: unknown): string {
  if (typeof v === "boolean") return v ? "on" : "off";
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

/** The usage lines of the setting flags, help and default from the table, wrapped at `width`. */
export function settingUsage(width = 110): string {
  const lines: string[] = [];
  for (const k of KEYS) {
    const s = SETTINGS[k];
    const left = `  ${s.kind === "bool" ? `--[no-]${s.flag}` : `--${s.flag} ${METAVAR[s.kind]}`}`;
    const help = s.default === null || (Array.isArray(s.default) && s.default.length === 0) ? s.help : `${s.help} (default ${shown(s.default)})`;
    let line = left.length < 25 ? left.padEnd(25) : `${left}\n${" ".repeat(25)}`;
    let col = 25;
    for (const word of help.split(" ")) {
      if (col + word.length > width && col > 25) {
        line = `${line.trimEnd()}\n${" ".repeat(25)}`;
        col = 25;
      }
      line += `${word} `;
      col += word.length + 1;
    }
    lines.push(line.trimEnd());
  }
  return `${lines.join("\n")}\n`;
}

/** The settings the flags give, keyed by setting and checked: a bad value is a UsageError naming its flag. */
export function settingFlags(values: Record<string, string | boolean | undefined>): Partial<Record<SettingKey, unknown>> {
  const out: Partial<Record<SettingKey, unknown>> = {};
  for (const k of KEYS) {
    const { flag, kind } = SETTINGS[k];
    if (kind === "bool") {
      if (values[flag] && values[`no-${flag}`]) throw new UsageError(`--${flag} and --no-${flag}: give one`);
      if (values[flag]) out[k] = true;
      if (values[`no-${flag}`]) out[k] = false;
    } else if (typeof values[flag] === "string") out[k] = checkFlag(k, parseFlagValue(k, values[flag]), values[flag]);
  }
  return out;
}
