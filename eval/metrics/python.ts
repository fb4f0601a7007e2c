// Python string and number semantics that sacreBLEU's output depends on, reproduced for JavaScript.
// sacreBLEU is Python: `str.split()`/`rstrip()` use Python's whitespace set, strings index code points,
// `f"{x:.2f}"` rounds the exact binary value half-to-even, and `json.dumps` prints floats with `repr`.
// docs/design.md §7.5 lists where JavaScript differs.

/**
 * The characters for which Python's `str.isspace()` is true (what `str.split()` with no argument splits on).
 * JavaScript's `\s` differs: it lacks U+001C–U+001F and U+0085 and adds U+FEFF.
 */
const PY_WS = "\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, "u");
const PY_WS_TRAILING = new RegExp(`[${PY_WS}]+$`, "u");
const PY_WS_LEADING = new RegExp(`^[${PY_WS}]+`, "u");
const PY_WS_ANY = new RegExp(`[${PY_WS}]`, "u");
const PY_WS_GLOBAL = new RegExp(`[${PY_WS}]+`, "gu");

/** Python `s.split()`: split on runs of whitespace, no empty items. */
export function pySplit(s: string): string[] {
  const parts = s.split(PY_WS_RUN);
  // Only the first and last item can be empty (leading or trailing whitespace).
  if (parts.length > 0 && parts[0] === "") parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Python `' '.join(s.split())`: single spaces between words, none at the ends. */
export function pyNormalizeSpaces(s: string): string {
  return pyStrip(s).replace(PY_WS_GLOBAL, " ");
}

/** Python `''.join(s.split())`: all whitespace removed. */
export function pyRemoveSpaces(s: string): string {
  return PY_WS_ANY.test(s) ? s.replace(PY_WS_GLOBAL, "") : s;
}

/** Python `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_WS_TRAILING, "");
}

/** Python `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(PY_WS_LEADING, "").replace(PY_WS_TRAILING, "");
}

/** Python `s.lower()`. JavaScript's locale-independent toLowerCase applies the same full Unicode mappings
 * (including final sigma and U+0130); checked against Python (docs/design.md §7.5). */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

/** Python `len(s)`: the number of code points. */
export function pyLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const SURROGATE = /[\ud800-\udfff]/;

/** The code points of `s` as strings (Python iterates a str this way). */
export function pyChars(s: string): string[] {
  return SURROGATE.test(s) ? Array.from(s) : s.split("");
}

/** Splits a double into an exact mantissa and binary exponent: |x| = mant * 2^exp. */
function exactBinary(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  if (biased === 0) return { mant: frac, exp: -1074 };
  return { mant: frac | (1n << 52n), exp: biased - 1075 };
}

/**
 * Python `f"{x:.{digits}f}"`: the exact binary value rounded half-to-even. `Number.prototype.toFixed` rounds
 * exact ties up (0.125 → "0.13" where Python prints "0.12") and drops the sign of -0.0.
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const negative = x < 0 || Object.is(x, -0);
  const { mant, exp } = exactBinary(x);
  let num = mant * 10n ** BigInt(digits);
  let den = 1n;
  if (exp >= 0) num <<= BigInt(exp);
  else den <<= BigInt(-exp);
  let q = num / den;
  const twice = 2n * (num - q * den);
  if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
  let s = q.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, "0");
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return negative ? `-${s}` : s;
}

/** Python `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16, else `1.5e-05`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN"; // as json.dumps writes it
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp >= -4 && exp < 16) {
    let s: string;
    if (exp >= digits.length - 1) s = `${digits}${"0".repeat(exp - digits.length + 1)}.0`;
    else if (exp >= 0) s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    else s = `0.${"0".repeat(-exp - 1)}${digits}`;
    return sign + s;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, "0");
  return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
}

/** A JSON value as Python's json module sees it: numbers are floats, objects keep insertion order. */
export type PyJson = null | boolean | number | string | PyJson[] | { [key: string]: PyJson };

function pyJsonString(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Python `json.dumps(value, indent=indent, ensure_ascii=ensureAscii)` for the values sacreBLEU prints.
 * With ensure_ascii, UTF-16 code units above U+007E are escaped one by one (so astral characters become
 * surrogate-pair escapes), exactly as Python does.
 */
export function pyJsonDumps(value: PyJson, indent: number, ensureAscii: boolean, level = 0): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyFloatRepr(value);
  if (typeof value === "string") return pyJsonString(value, ensureAscii);
  const inner = " ".repeat(indent * (level + 1));
  const outer = " ".repeat(indent * level);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => inner + pyJsonDumps(v, indent, ensureAscii, level + 1));
    return `[\n${items.join(",\n")}\n${outer}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const items = entries.map(
    ([k, v]) => `${inner}${pyJsonString(k, ensureAscii)}: ${pyJsonDumps(v, indent, ensureAscii, level + 1)}`,
  );
  return `{\n${items.join(",\n")}\n${outer}}`;
}
