// A metric score and its printed forms, as sacreBLEU's Score.format writes them (metrics/base.py):
//   text:  "BLEU|nrefs:1|...|version:2.6.0 = 48.5 82.4/50.0/45.5/37.5 (BP = ...)"
//   score only: "48.5"
//   json:  {"name", "score", "signature", ["confidence_*"], ["verbose_score"], one key per signature field}
import { pyFixed, pyJsonDumps, type PyJson } from "./python.ts";
import type { Signature } from "./signature.ts";

export interface FormatOptions {
  /** Print only the score (sacreBLEU `-b`); wins over json, as in sacreBLEU. */
  scoreOnly?: boolean;
  json?: boolean;
  /** Short signature (sacreBLEU `--short`); JSON always uses the long form. */
  short?: boolean;
  /** Leave the signature out of the text line (sacreBLEU's API default when no signature is passed). */
  noSignature?: boolean;
}

export class Score {
  /** Bootstrap estimate of the true mean and the half-width of its 95% interval (sacreBLEU `--confidence`). */
  mean?: number;
  ci?: number;

  constructor(
    readonly name: string,
    readonly score: number,
    readonly signatureInfo: Signature,
    /** Text printed after the score (BLEU's precisions and brevity penalty); empty for chrF and TER. */
    readonly verbose = "",
  ) {}

  get signature(): string {
    return this.signatureInfo.format(false);
  }

  /** sacreBLEU's Score.format; width is the number of decimals (the CLI uses 1, the API 2). */
  format(width = 2, options: FormatOptions = {}): string {
    const signature = options.noSignature ? "" : this.signatureInfo.format(options.json ? false : options.short);
    let sc = pyFixed(this.score, width);
    const d: { [key: string]: PyJson } = {
      name: this.name,
      score: Number(sc),
      signature,
    };
    if (this.mean !== undefined && this.ci !== undefined && this.mean > 0) {
      const mean = pyFixed(this.mean, width);
      const ci = pyFixed(this.ci, width);
      const confidence = `μ = ${mean} ± ${ci}`;
      sc += ` (${confidence})`;
      if (options.json) {
        d.confidence_mean = Number(mean);
        d.confidence_var = Number(ci);
        d.confidence = confidence;
      }
    }
    let line = `${signature ? `${this.name}|${signature}` : this.name} = ${sc}`;
    if (this.verbose) {
      line += ` ${this.verbose}`;
      d.verbose_score = this.verbose;
    }
    if (options.scoreOnly) return sc;
    if (options.json) {
      for (const [key, value] of this.signatureInfo.entries()) d[key] = value;
      return pyJsonDumps(d, 1, false);
    }
    return line;
  }

  toString(): string {
    return this.format();
  }
}
