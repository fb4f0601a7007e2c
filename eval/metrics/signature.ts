// Reproducibility signatures exactly as sacreBLEU prints them (sacrebleu/metrics/base.py Signature;
// docs/design.md §7.4): fields in insertion order with the version moved last, unset fields dropped, booleans
// as yes/no, and a short form with abbreviated keys.

/** The sacreBLEU release whose numbers, signatures and output this implementation reproduces. */
export const SACREBLEU_VERSION = "2.6.0";

export type SignatureValue = string | number | boolean | null;

export class Signature {
  private readonly info = new Map<string, SignatureValue>();
  private readonly abbr = new Map<string, string>([
    ["version", "v"],
    ["nrefs", "#"],
    ["test", "t"],
    ["lang", "l"],
    ["subset", "S"],
    ["origlang", "o"],
    ["bs", "bs"],
    ["ar", "ar"],
    ["seed", "rs"],
  ]);

  /**
   * @param nrefs references per segment, or "var" when segments have different numbers of references
   * @param fields the metric's own fields (key, abbreviation, value), in sacreBLEU's order
   */
  constructor(nrefs: number | "var", fields: [string, string, SignatureValue][]) {
    // sacreBLEU's global fields come first (bootstrap and test-set fields stay unset until a test fills them).
    for (const key of ["version", "nrefs", "bs", "ar", "seed", "test", "lang", "origlang", "subset"]) {
      this.info.set(key, null);
    }
    this.info.set("version", SACREBLEU_VERSION);
    this.info.set("nrefs", nrefs);
    for (const [key, short, value] of fields) {
      this.abbr.set(key, short);
      this.info.set(key, value);
    }
  }

  /** Sets a field; an existing field keeps its position (as a Python dict update does). */
  update(key: string, value: SignatureValue): void {
    this.info.set(key, value);
  }

  format(short = false): string {
    const keys = [...this.info.keys()].filter((k) => k !== "version");
    keys.push("version");
    const pairs: string[] = [];
    for (const key of keys) {
      let value = this.info.get(key) ?? null;
      if (value === null) continue;
      if (typeof value === "boolean") value = value ? "yes" : "no";
      pairs.push(`${short ? (this.abbr.get(key) ?? key) : key}:${value}`);
    }
    return pairs.join("|");
  }

  /** The long-form fields as key/value strings (sacreBLEU's JSON output adds one key per field). */
  entries(): [string, string][] {
    return this.format(false)
      .split("|")
      .map((pair) => {
        const colon = pair.indexOf(":");
        return [pair.slice(0, colon), pair.slice(colon + 1)];
      });
  }

  toString(): string {
    return this.format(false);
  }
}
