// Paired bootstrap resampling against sacreBLEU 2.6.0's PairedTest at full precision: same resamples (numpy
// PCG64, seed 12345), same float32 arithmetic on resampled statistics, so chrF and TER results are bit for bit
// sacreBLEU's. BLEU can differ in the last bit because V8's Math.log/Math.exp are not glibc's (an error of
// about 1e-15 relative, far below anything printed).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Bleu, Chrf, type Metric, Ter } from "../../eval/metrics/index.ts";
import { estimateCi, pairedBootstrap } from "../../eval/metrics/significance.ts";
import { CASES_PATH } from "./helpers.ts";

const fixture = JSON.parse(readFileSync(CASES_PATH, "utf8"));
const { refs, systems } = fixture.paired as { refs: string[][]; systems: string[][] };
const expected = fixture.paired_api.results as (number | null)[][][];

test("paired bootstrap equals sacreBLEU's PairedTest (scores, p-values, means, intervals)", () => {
  const refSets = [refs, [refs[0] as string[], systems[2] as string[], systems[1] as string[]]];
  const metrics = (): Metric[] => [new Bleu(), new Chrf({ wordOrder: 2 }), new Ter(), new Chrf({ epsSmoothing: true })];
  let k = 0;
  for (const r of refSets) {
    for (const metric of metrics()) {
      const { results, signatures } = pairedBootstrap(systems, r, [metric]);
      const rows = [...results.values()][0] as { score: number; pValue: number | null; mean: number; ci: number }[];
      const want = expected[k++] as (number | null)[][];
      assert.equal(rows.length, 3);
      rows.forEach((row, i) => {
        const w = want[i] as (number | null)[];
        assert.equal(row.pValue, w[1], `p-value of system ${i}`);
        const values = [row.score, row.mean, row.ci];
        const wantValues = [w[0], w[2], w[3]] as number[];
        if (metric instanceof Bleu) {
          values.forEach((v, j) => assert.ok(Math.abs(v - (wantValues[j] as number)) <= 1e-12 * Math.abs(v), `${v} vs ${wantValues[j]}`));
        } else {
          assert.deepEqual(values, wantValues);
        }
      });
      assert.match([...signatures.values()][0]?.format() ?? "", /^nrefs:\d\|bs:1000\|seed:12345\|/);
    }
  }
});

test("confidence interval uses the 25th and 975th of 1000 sorted scores", () => {
  const scores = Array.from({ length: 1000 }, (_, i) => i);
  // sorted[25] = 25, sorted[974] = 974 → half-width 474.5; mean 499.5
  assert.deepEqual(estimateCi(scores), { mean: 499.5, ci: 474.5 });
});
