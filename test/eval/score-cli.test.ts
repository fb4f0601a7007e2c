// `nast score` as a user runs it: stdin, tab-separated systems, -nr, gzip, empty lines, and clear errors for
// bad input (the file and the counts or line named, a non-zero exit, no stack trace).
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { test } from "node:test";
import { nastScore, writeFiles } from "./helpers.ts";

const REF = "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n";
const HYP = "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n";

test("hypotheses from stdin, references with -r or positionally, same result", () => {
  const dir = writeFiles({ "ref.txt": REF, "hyp.txt": HYP });
  const a = nastScore(["-r", "ref.txt", "-f", "text", "-m", "bleu", "chrf", "ter"], dir, HYP);
  const b = nastScore(["ref.txt", "-i", "hyp.txt", "-f", "text", "-m", "ter", "chrf", "bleu"], dir);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  // sacreBLEU 2.6.0 on these files prints (metrics in name order, aligned on '='):
  assert.equal(
    a.stdout,
    [
      "        BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 45.1 70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)",
      "      chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 50.0",
      "TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 50.0",
      "",
    ].join("\n"),
  );
});

test("line-count mismatch names both files and counts and exits non-zero", () => {
  const dir = writeFiles({ "ref.de": REF, "hyp.de": "only one line\n" });
  const r = nastScore(["-r", "ref.de", "-i", "hyp.de"], dir);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /hypotheses hyp\.de have 1 lines but reference ref\.de has 3 lines/);
  assert.doesNotMatch(r.stderr, /at .*\.ts/, "no stack trace");
});

test("bad input and bad flags give clear errors", () => {
  const dir = writeFiles({ "ref.txt": REF, "bad.txt": Buffer.from([0x61, 0x0a, 0x62, 0xff, 0x0a, 0x63, 0x0a]) });
  const utf = nastScore(["ref.txt", "-i", "bad.txt"], dir);
  assert.equal(utf.status, 1);
  assert.match(utf.stderr, /bad\.txt: line 2 is not valid UTF-8/);
  const missing = nastScore(["ref.txt", "-i", "nope.txt"], dir);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.txt: no such file/);
  const flag = nastScore(["ref.txt", "--bleu-magic"], dir, HYP);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /unknown option '--bleu-magic'/);
  const tok = nastScore(["ref.txt", "-tok", "moses"], dir, HYP);
  assert.equal(tok.status, 2);
  assert.match(tok.stderr, /-tok: invalid choice 'moses'/);
  const noRef = nastScore([], dir, HYP);
  assert.equal(noRef.status, 2);
  assert.match(noRef.stderr, /no reference file given/);
  const fields = nastScore(["ref.txt"], dir, "a\tb\nc\n");
  assert.equal(fields.status, 17, "sacreBLEU's exit status for a wrong number of tab-separated fields");
  assert.match(fields.stderr, /line 2 has 1 tab-separated fields but line 1 has 2/);
  const help = nastScore(["--help"], dir);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--ter-asian-support/);
});

test("tab-separated systems on stdin, -nr tab-separated references, gzip, empty lines", () => {
  const refs2 = "The dog bit the man.\tThe dog had bit the man.\nIt was not unexpected.\tNo one was surprised.\n\tsomething\n";
  const dir = writeFiles({
    "refs.tsv": refs2,
    "ref0.txt.gz": gzipSync("The dog bit the man.\nIt was not unexpected.\n\n"),
    "ref1.txt": "The dog had bit the man.\nNo one was surprised.\nsomething\n",
  });
  // stdin is read with universal newlines; a line's trailing whitespace (tabs included) is stripped first.
  const hyps = "The dog bit the man.\tA dog.\r\nIt wasn't surprising.\tNo.\r\n\tz\r\n";
  // Values printed by sacreBLEU 2.6.0 for the same files (sacrebleu refs.tsv -nr 2 -m bleu -f text < hyps).
  const a = nastScore(["refs.tsv", "-nr", "2", "-m", "bleu", "-f", "text"], dir, hyps);
  const b = nastScore(["ref0.txt.gz", "ref1.txt", "-m", "bleu", "-f", "text"], dir, hyps);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.equal(
    a.stdout,
    [
      "╒══════════╤════════╕",
      "│   System │  BLEU  │",
      "╞══════════╪════════╡",
      "│ System 1 │  64.0  │",
      "├──────────┼────────┤",
      "│ System 2 │  0.0   │",
      "╘══════════╧════════╛",
      "",
      "-----------------",
      "Metric signatures",
      "-----------------",
      " - BLEU       nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",
      "",
    ].join("\n"),
  );
});

test("-l xx-zh selects the zh tokenizer, as sacreBLEU does for a Chinese target", () => {
  const dir = writeFiles({ "ref.zh": "我们今天要讨论气候变化的问题。\n他说：“这是2019年的事。”\n" });
  const r = nastScore(["ref.zh", "-l", "en-zh", "-f", "text"], dir, "我们今天讨论气候变化问题。\n他说：“这是2019年。”\n");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:zh\|smooth:exp\|version:2\.6\.0 = /);
});
