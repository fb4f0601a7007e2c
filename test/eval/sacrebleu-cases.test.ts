// Cases in Spanish, German, Russian, Chinese and English (accents, «» „“ quotes, Cyrillic, CJK, combining marks,
// emoji, empty lines) with one and two references, scored by the real sacreBLEU 2.6.0 (fixtures/
// sacrebleu-2.6.0-cases.json). The library must give the same scores and printed lines; `nast score` must print
// byte for byte what the `sacrebleu` command printed, paired bootstrap tables included.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Bleu, Chrf, corpusScore, type Metric, Ter } from "../../eval/metrics/index.ts";
import { CASES_PATH, nastScore, writeFiles } from "./helpers.ts";

interface Case {
  lang: string;
  hyps: string[];
  refs: string[][];
  results: { metric: string; options: Record<string, never>; score: number; formatted: string }[];
}

const fixture = JSON.parse(readFileSync(CASES_PATH, "utf8")) as {
  cases: Case[];
  cli: { case: number; args: string[]; stdout: string }[];
  paired: { refs: string[][]; systems: string[][]; runs: { args: string[]; stdout: string }[] };
};

function metric(name: string, o: Record<string, never>): Metric {
  if (name === "BLEU") {
    return new Bleu({ tokenize: o.tokenize, lowercase: o.lowercase, smoothMethod: o.smooth_method, effectiveOrder: o.effective_order });
  }
  if (name === "chrF") {
    return new Chrf({ wordOrder: o.word_order, epsSmoothing: o.eps_smoothing, whitespace: o.whitespace });
  }
  return new Ter({ normalized: o.normalized, noPunct: o.no_punct, asianSupport: o.asian_support, caseSensitive: o.case_sensitive });
}

test("library scores and score lines equal sacreBLEU's on es/de/ru/zh/en with 1 and 2 references", () => {
  const seen = new Set<string>();
  for (const c of fixture.cases) {
    seen.add(`${c.lang}/${c.refs.length}`);
    for (const r of c.results) {
      const s = corpusScore(metric(r.metric, r.options), c.hyps, c.refs, { warn: () => {} });
      const where = `${c.lang} nrefs=${c.refs.length} ${r.metric} ${JSON.stringify(r.options)}`;
      assert.ok(Math.abs(s.score - r.score) < 1e-9, `${where}: ${s.score} vs sacreBLEU ${r.score}`);
      assert.equal(s.format(2), r.formatted, where);
    }
  }
  assert.equal(seen.size, 10, "every language with one and with two references");
});

test("`nast score` prints what the sacrebleu command printed (text, JSON, -b, --short, zh)", () => {
  for (const run of fixture.cli) {
    const c = fixture.cases[run.case] as Case;
    const files: Record<string, string> = { "hyp.txt": `${c.hyps.join("\n")}\n` };
    c.refs.forEach((stream, k) => (files[`ref${k}.txt`] = `${stream.join("\n")}\n`));
    const dir = writeFiles(files);
    const r = nastScore([...c.refs.map((_, k) => `ref${k}.txt`), "-i", "hyp.txt", ...run.args], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, run.stdout, `${c.lang} ${run.args.join(" ")}`);
  }
});

test("paired bootstrap and confidence intervals print what sacreBLEU printed (same resamples, p-values)", () => {
  const { refs, systems, runs } = fixture.paired;
  const files: Record<string, string> = { "r.txt": `${(refs[0] as string[]).join("\n")}\n` };
  systems.forEach((s, k) => (files[`sys${k}.txt`] = `${s.join("\n")}\n`));
  const dir = writeFiles(files);
  for (const run of runs) {
    const inputs = run.args.includes("-ci") ? ["sys0.txt"] : systems.map((_, k) => `sys${k}.txt`);
    const r = nastScore(["r.txt", "-i", ...inputs, ...run.args], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, run.stdout, run.args.join(" "));
  }
});
