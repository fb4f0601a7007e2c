// `nast score` for one system prints what sacreBLEU 2.6.0's print_single_results prints, byte for byte: with
// -f json (the default) one metric is its JSON object alone and several are joined into a list; with -b only
// the score, which for several metrics in JSON makes a list of bare numbers; -f text aligns lines on '='.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nastScore, writeFiles } from "../eval/helpers.ts";

const REF = "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n";
const HYP = "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n";

const BLEU_JSON = [
  "{",
  ' "name": "BLEU",',
  ' "score": 45.1,',
  ' "signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",',
  ' "verbose_score": "70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)",',
  ' "nrefs": "1",',
  ' "case": "mixed",',
  ' "eff": "no",',
  ' "tok": "13a",',
  ' "smooth": "exp",',
  ' "version": "2.6.0"',
  "}",
].join("\n");

const TER_JSON = [
  "{",
  ' "name": "TER",',
  ' "score": 50.0,',
  ' "signature": "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0",',
  ' "nrefs": "1",',
  ' "case": "lc",',
  ' "tok": "tercom",',
  ' "norm": "no",',
  ' "punct": "yes",',
  ' "asian": "no",',
  ' "version": "2.6.0"',
  "}",
].join("\n");

const CASES: [string[], string][] = [
  // One metric: the object itself, no list around it.
  [[], `${BLEU_JSON}\n`],
  [["-f", "json", "-m", "ter"], `${TER_JSON}\n`],
  // Several metrics: '[\n' + ',\n'.join(objects) + '\n]', in name order whatever the -m order.
  [["-m", "ter", "bleu"], `[\n${BLEU_JSON},\n${TER_JSON}\n]\n`],
  // -b: the score only; several scores in JSON are joined the same way.
  [["-b"], "45.1\n"],
  [["-b", "-f", "json", "-m", "bleu"], "45.1\n"],
  [["-m", "bleu", "chrf", "ter", "-b"], "[\n45.1,\n50.0,\n50.0\n]\n"],
  [["-m", "chrf", "ter", "-b", "-w", "2"], "[\n50.04,\n50.00\n]\n"],
  [["-m", "bleu", "chrf", "-b", "-f", "text"], "45.1\n50.0\n"],
  [["-f", "text"], "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 45.1 70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)\n"],
  [["-f", "text", "-b"], "45.1\n"],
];

test("one system: JSON, several metrics, -b and text exactly as sacreBLEU 2.6.0 prints them", () => {
  const dir = writeFiles({ "ref.txt": REF, "hyp.txt": HYP });
  for (const [args, expected] of CASES) {
    const r = nastScore(["ref.txt", "-i", "hyp.txt", ...args], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, expected, `nast score ref.txt -i hyp.txt ${args.join(" ")}`);
  }
  // The same from stdin, and the single object parses as one object.
  const stdin = nastScore(["ref.txt"], dir, HYP);
  assert.equal(stdin.stdout, `${BLEU_JSON}\n`);
  assert.equal(JSON.parse(stdin.stdout).score, 45.1);
});
