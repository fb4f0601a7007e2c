// Every subcommand parses its flags one way (src/cli/args.ts parseFlags): -h/--help prints the usage on
// stdout and exits 0; an unknown flag is a usage error, exit 2, with the usage on stderr.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runNast } from "../helpers/cli.ts";

const COMMANDS = [
  ["translate"], ["features"], ["prep"], ["train"], ["average"], ["export"], ["eval"], ["score"], ["plot"],
  ["analyze", "attention"], ["corpus", "synth"], ["corpus", "text"], ["bench", "kernels"], ["bench", "infer"], ["bench", "train"],
];

for (const cmd of COMMANDS) {
  test(`nast ${cmd.join(" ")}: --help and an unknown flag`, () => {
    for (const flag of ["--help", "-h"]) {
      const help = runNast([...cmd, flag]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^usage:/);
      assert.equal(help.stderr, "");
    }
    const bad = runNast([...cmd, "--bogus"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /^nast: .*nknown option '--bogus'/);
    assert.match(bad.stderr, /\n\nusage:/, "the usage follows the message");
  });
}

test("nast bench --help lists the benchmarks", () => {
  const r = runNast(["bench", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /kernels\|infer\|train/);
});
