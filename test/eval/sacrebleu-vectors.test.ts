// Every vector of test/vectors/sacrebleu-vectors.json (sacreBLEU 2.6.0 and its own test files) through the
// library, and a sample of them through `nast score -f json` as a user runs it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  Bleu,
  type BleuScore,
  Chrf,
  computeBleu,
  corpusScore,
  type Metric,
  sentenceScore,
  Ter,
  type TerScore,
  terTokenize,
  TOKENIZERS,
  type TokenizerName,
} from "../../eval/metrics/index.ts";
import { nastScore, VECTORS_PATH, writeFiles } from "./helpers.ts";

interface Vector {
  metric: string;
  level?: string;
  hyps: string[] | null;
  refs: string[][] | null;
  options: Record<string, unknown>;
  expected_score?: number;
  tolerance?: number;
  computed_score?: number;
  signature?: string;
  signature_short?: string;
  formatted?: string;
  score_only_w1?: string;
  name?: string;
  counts?: number[];
  totals?: number[];
  sys_len?: number;
  ref_len?: number;
  num_edits?: number;
  ref_length?: number;
  tokenizer?: string;
  input?: string;
  expected_output?: string;
  construct?: string;
  correct?: number[];
  total?: number[];
  source: string;
}

const vectors: Vector[] = JSON.parse(readFileSync(VECTORS_PATH, "utf8")).vectors;

/** The vector's sacreBLEU constructor options as ours. */
function metricFor(v: Vector): Metric {
  const o = v.options as Record<string, never>;
  if (v.metric === "BLEU") {
    return new Bleu({
      tokenize: o.tokenize,
      lowercase: o.lowercase,
      smoothMethod: o.smooth_method,
      smoothValue: o.smooth_value,
      effectiveOrder: o.effective_order,
      maxNgramOrder: o.max_ngram_order,
      force: o.force,
    });
  }
  if (v.metric === "chrF") {
    return new Chrf({
      charOrder: o.char_order,
      wordOrder: o.word_order,
      beta: o.beta,
      lowercase: o.lowercase,
      whitespace: o.whitespace,
      epsSmoothing: o.eps_smoothing,
    });
  }
  return new Ter({ normalized: o.normalized, noPunct: o.no_punct, asianSupport: o.asian_support, caseSensitive: o.case_sensitive });
}

/** Parses a construct string such as `BLEU(smooth_method="add-k", smooth_value=2)`. */
function constructed(construct: string): Metric {
  const args: Record<string, unknown> = {};
  for (const m of construct.matchAll(/(\w+)=("[^"]*"|True|False|[\d.]+)/g)) {
    const raw = m[2] as string;
    args[m[1] as string] = raw === "True" ? true : raw === "False" ? false : JSON.parse(raw);
  }
  const kind = construct.slice(0, construct.indexOf("("));
  return metricFor({ metric: kind === "CHRF" ? "chrF" : kind, options: args } as unknown as Vector);
}

const close = (got: number, want: number, tol: number) =>
  assert.ok(Math.abs(got - want) <= tol, `score ${got} differs from sacreBLEU's ${want} by more than ${tol}`);

test(`all ${vectors.length} sacreBLEU vectors through the library`, async (t) => {
  const counts: Record<string, number> = {};
  for (const [k, v] of vectors.entries()) {
    counts[v.metric] = (counts[v.metric] ?? 0) + 1;
    await t.test(`#${k} ${v.metric} ${v.tokenizer ?? v.level ?? ""} ${v.construct ?? ""}`, () => {
      if (v.metric === "tokenizer") {
        const input = v.input as string;
        const o = v.options as Record<string, boolean | undefined>;
        const got =
          v.tokenizer === "tercom"
            ? terTokenize(input, { normalized: o.normalized, noPunct: o.no_punct, asianSupport: o.asian_support, caseSensitive: o.case_sensitive })
            : TOKENIZERS[v.tokenizer as TokenizerName](input);
        assert.equal(got, v.expected_output);
        return;
      }
      if (v.metric === "BLEU-from-stats") {
        const o = v.options as Record<string, never>;
        const r = computeBleu(
          { correct: v.correct as number[], total: v.total as number[], sysLen: v.sys_len as number, refLen: v.ref_len as number },
          o.smooth_method,
          o.smooth_value,
          o.effective_order,
          o.max_ngram_order,
        );
        close(r.score, v.expected_score as number, Math.max(v.tolerance ?? 0, 1e-9));
        return;
      }
      if (v.metric === "signature") {
        const s = corpusScore(constructed(v.construct as string), v.hyps as string[], v.refs as string[][]);
        assert.equal(s.signature, v.signature);
        assert.equal(s.signatureInfo.format(true), v.signature_short);
        assert.equal(s.format(2), v.formatted);
        assert.equal(s.format(1, { scoreOnly: true }), v.score_only_w1);
        assert.equal(s.name, v.name);
        close(s.score, v.computed_score as number, 1e-9);
        return;
      }
      const metric = metricFor(v);
      const hyps = v.hyps as string[];
      const refs = v.refs as string[][];
      const s =
        v.level === "sentence"
          ? sentenceScore(metric, hyps[0] as string, refs.map((stream) => stream[0] as string))
          : corpusScore(metric, hyps, refs, { warn: () => {} });
      close(s.score, v.expected_score as number, Math.max(v.tolerance ?? 0, 1e-9));
      if (v.computed_score !== undefined) close(s.score, v.computed_score, 1e-9);
      if (v.signature !== undefined) assert.equal(s.signature, v.signature);
      if (v.name !== undefined) assert.equal(s.name, v.name);
      if (v.counts !== undefined) {
        const b = s as BleuScore;
        assert.deepEqual([b.counts, b.totals, b.sysLen, b.refLen], [v.counts, v.totals, v.sys_len, v.ref_len]);
      }
      if (v.num_edits !== undefined) {
        const r = s as TerScore;
        assert.deepEqual([r.numEdits, r.refLength], [v.num_edits, v.ref_length]);
      }
    });
  }
  // The file holds 180 vectors of these kinds (test/vectors/README.md); a change in it should be noticed.
  assert.deepEqual(counts, { BLEU: 50, chrF: 31, TER: 12, tokenizer: 67, signature: 13, "BLEU-from-stats": 7 });
});

/** The CLI flags that select a vector's options. */
function cliFlags(v: Vector): string[] | undefined {
  const o = v.options as Record<string, never>;
  if (v.metric === "BLEU") {
    if (o.max_ngram_order !== 4 || o.effective_order) return undefined; // not reachable from sacreBLEU's CLI
    const flags = ["-m", "bleu", "-tok", o.tokenize, "-s", o.smooth_method];
    if (o.lowercase) flags.push("-lc");
    if (o.smooth_value !== null) flags.push("-sv", String(o.smooth_value));
    return flags;
  }
  if (v.metric === "chrF") {
    const flags = ["-m", "chrf", "-cc", String(o.char_order), "-cw", String(o.word_order), "--chrf-beta", String(o.beta)];
    if (o.lowercase) flags.push("--chrf-lowercase");
    if (o.whitespace) flags.push("--chrf-whitespace");
    if (o.eps_smoothing) flags.push("--chrf-eps-smoothing");
    return flags;
  }
  const flags = ["-m", "ter"];
  if (o.normalized) flags.push("--ter-normalized");
  if (o.no_punct) flags.push("--ter-no-punct");
  if (o.asian_support) flags.push("--ter-asian-support");
  if (o.case_sensitive) flags.push("--ter-case-sensitive");
  return flags;
}

test("corpus vectors of each metric through `nast score -f json -w 4`", () => {
  const picked = new Map<string, Vector[]>();
  for (const v of vectors) {
    if (v.level !== "corpus" || cliFlags(v) === undefined) continue;
    // Lines with trailing whitespace or newlines cannot round-trip through a file the way the API sees them.
    if ([...(v.hyps ?? []), ...(v.refs ?? []).flat()].some((l) => /\n|\s$/.test(l))) continue;
    const list = picked.get(v.metric) ?? [];
    if (list.length < 4) list.push(v);
    picked.set(v.metric, list);
  }
  assert.deepEqual([...picked.keys()].sort(), ["BLEU", "TER", "chrF"]);
  for (const v of [...picked.values()].flat()) {
    const refs = v.refs as string[][];
    const files: Record<string, string> = { "hyp.txt": `${(v.hyps as string[]).join("\n")}\n` };
    refs.forEach((stream, k) => (files[`ref${k}.txt`] = `${stream.join("\n")}\n`));
    const dir = writeFiles(files);
    const r = nastScore([...refs.map((_, k) => `ref${k}.txt`), "-i", "hyp.txt", "-f", "json", "-w", "4", ...(cliFlags(v) as string[])], dir);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(!Array.isArray(out) && typeof out === "object", "one metric gives its object alone, as sacreBLEU prints it");
    close(out.score, Number((v.expected_score as number).toFixed(4)), 1e-4 + 1e-9);
    if (v.signature) assert.equal(out.signature, v.signature);
  }
});
