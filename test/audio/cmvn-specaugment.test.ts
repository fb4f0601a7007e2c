// Utterance CMVN against fbank-vectors.json (fairseq's UtteranceCMVN on torchaudio's fbank),
// SpecAugment "ld2" (docs/model.md §2.1) bounds, mask value and reproducibility, and the seeded Rng.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { utteranceCmvn } from "../../src/audio/cmvn.ts";
import { fbank } from "../../src/audio/fbank.ts";
import { LD2_POLICY, specAugment } from "../../src/audio/specaugment.ts";
import { Rng } from "../../src/util/rng.ts";

const vectors = JSON.parse(readFileSync(new URL("../vectors/fbank-vectors.json", import.meta.url), "utf8"));

describe("utterance CMVN", () => {
  const expected = (vectors.utterance_cmvn_float64_first2_frames as number[][]).flat();
  const reference = (vectors.fbank_float64 as number[][]).flat();
  const frames: number = vectors.num_frames;
  // CMVN divides by each dimension's std, as small as 0.0025 on this stationary 23-frame signal, so
  // an input difference δ becomes δ/std: the tolerance is 1e-5 + δ/std per dimension.
  const std = Array.from({ length: 80 }, (_, d) => {
    let s = 0;
    let s2 = 0;
    for (let f = 0; f < frames; f++) {
      s += reference[f * 80 + d]!;
      s2 += reference[f * 80 + d]! ** 2;
    }
    return Math.sqrt(Math.max(s2 / frames - (s / frames) ** 2, 1e-10));
  });
  const check = (data: Float32Array, inputDelta: number) => {
    for (let i = 0; i < expected.length; i++) {
      const tol = 1e-5 + inputDelta / std[i % 80]!;
      assert.ok(Math.abs(data[i]! - expected[i]!) <= tol, `cell ${i}: ${data[i]} vs ${expected[i]} (tolerance ${tol})`);
    }
  };

  test("on the reference float64 fbank (held in float32, δ = 2e-6): matches fairseq", () => {
    const feats = Float32Array.from(reference);
    utteranceCmvn(feats, frames, 80);
    check(feats, 2e-6);
  });

  test("on our fbank (δ = 1e-4 from the float64 reference): matches; zero mean, unit variance", () => {
    const samples = Float32Array.from(vectors.samples_int16 as number[], (x) => x / 32768);
    const { data, dim } = fbank(samples);
    utteranceCmvn(data, frames, dim);
    check(data, 1e-4);
    for (let d = 0; d < dim; d++) {
      let s = 0;
      let s2 = 0;
      for (let f = 0; f < frames; f++) {
        s += data[f * dim + d]!;
        s2 += data[f * dim + d]! ** 2;
      }
      assert.ok(Math.abs(s / frames) < 1e-4, `dim ${d} mean ${s / frames}`);
      assert.ok(Math.abs(s2 / frames - 1) < 1e-3, `dim ${d} var ${s2 / frames}`);
    }
  });

  test("constant dimensions are floored (std = sqrt(1e-10)), not divided by zero", () => {
    const data = new Float32Array(3 * 2).fill(4);
    utteranceCmvn(data, 3, 2);
    assert.ok(data.every((v) => v === 0));
    assert.deepEqual(utteranceCmvn(new Float32Array(0), 0, 80), new Float32Array(0));
  });
});

function gaussianFeatures(frames: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: frames * dim }, () => rng.normal() + 3);
}

/** Columns (frequency) and rows (time) whose every cell equals `value`. */
function maskedBands(data: Float32Array, frames: number, dim: number, value: number): { cols: number[]; rows: number[] } {
  const v = Math.fround(value);
  const cols: number[] = [];
  for (let d = 0; d < dim; d++) {
    let all = true;
    for (let f = 0; f < frames && all; f++) all = data[f * dim + d] === v;
    if (all) cols.push(d);
  }
  const rows: number[] = [];
  for (let f = 0; f < frames; f++) {
    let all = true;
    for (let d = 0; d < dim && all; d++) all = data[f * dim + d] === v;
    if (all) rows.push(f);
  }
  return { cols, rows };
}

function mean(data: Float32Array): number {
  let s = 0;
  for (const v of data) s += v;
  return s / data.length;
}

describe("SpecAugment ld2", () => {
  test("the same seed gives the same masks; other seeds give others", () => {
    const base = gaussianFeatures(500, 80, 1);
    const a = specAugment(base.slice(), 500, 80, new Rng(42));
    const b = specAugment(base.slice(), 500, 80, new Rng(42));
    const c = specAugment(base.slice(), 500, 80, new Rng(43));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test("masked cells hold the utterance mean; all others are untouched", () => {
    for (let seed = 0; seed < 50; seed++) {
      const base = gaussianFeatures(400, 80, seed + 100);
      const m = Math.fround(mean(base));
      const out = specAugment(base.slice(), 400, 80, new Rng(seed));
      for (let i = 0; i < out.length; i++) assert.ok(out[i] === base[i] || out[i] === m, `seed ${seed} cell ${i}`);
      const { cols, rows } = maskedBands(out, 400, 80, m);
      // At most two frequency bands of width ≤ 26 and two time bands of width < floor(0.05·400) = 20.
      assert.ok(cols.length <= 2 * 26, `seed ${seed}: ${cols.length} masked bins`);
      assert.ok(rows.length <= 2 * 19, `seed ${seed}: ${rows.length} masked frames`);
      assert.ok(!cols.includes(79), "fairseq draws f0 from [0, 80 − f): the last bin is never masked");
    }
  });

  test("width distributions follow the policy bounds", () => {
    const freqWidths = new Set<number>();
    const timeWidths = new Set<number>();
    const onlyFreq = { ...LD2_POLICY, freqMasks: 1, timeMasks: 0 };
    const onlyTime = { ...LD2_POLICY, freqMasks: 0, timeMasks: 1 };
    for (let seed = 0; seed < 1500; seed++) {
      const base = gaussianFeatures(40, 80, seed);
      const m = mean(base);
      freqWidths.add(maskedBands(specAugment(base, 40, 80, new Rng(seed), onlyFreq), 40, 80, m).cols.length);
      const long = gaussianFeatures(3000, 4, seed);
      const lm = mean(long);
      timeWidths.add(maskedBands(specAugment(long, 3000, 4, new Rng(seed), { ...onlyTime, freqMaskF: 1 }), 3000, 4, lm).rows.length);
    }
    // U[0, 27): every width 0..26 appears and nothing wider.
    assert.deepEqual([...freqWidths].sort((x, y) => x - y), Array.from({ length: 27 }, (_, i) => i));
    // T = 3000 frames: U[0, min(100, 150)) = U[0, 100).
    assert.equal(Math.max(...timeWidths), 99);
    assert.equal(Math.min(...timeWidths), 0);
  });

  test("short utterances: no time masks below 20 frames; untouched when empty", () => {
    for (let seed = 0; seed < 100; seed++) {
      const base = gaussianFeatures(19, 80, seed);
      const out = specAugment(base.slice(), 19, 80, new Rng(seed));
      assert.equal(maskedBands(out, 19, 80, mean(base)).rows.length, 0);
    }
    const empty = new Float32Array(0);
    assert.equal(specAugment(empty, 0, 80, new Rng(1)), empty);
  });
});

describe("Rng", () => {
  test("deterministic per seed (numbers and strings), independent across seeds", () => {
    const seq = (r: Rng) => Array.from({ length: 20 }, () => r.nextUint32());
    assert.deepEqual(seq(new Rng(5)), seq(new Rng(5)));
    assert.deepEqual(seq(new Rng("epoch-3")), seq(new Rng("epoch-3")));
    assert.notDeepEqual(seq(new Rng(5)), seq(new Rng(6)));
    assert.notDeepEqual(seq(new Rng(0)), seq(new Rng(1)));
  });

  test("uniform, int and normal have the right moments; int is unbiased", () => {
    const r = new Rng(2024);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      assert.ok(u >= 0 && u < 1);
      s += u;
      s2 += u * u;
    }
    assert.ok(Math.abs(s / n - 0.5) < 0.005);
    assert.ok(Math.abs(s2 / n - 1 / 3) < 0.005);

    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    // Chi-square with 6 degrees of freedom: 22.5 is the 0.1% critical value.
    const chi2 = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    assert.ok(chi2 < 22.5, `chi2 ${chi2}`);
    assert.throws(() => r.int(0), RangeError);

    let m = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const g = r.normal();
      m += g;
      v += g * g;
    }
    assert.ok(Math.abs(m / n) < 0.01);
    assert.ok(Math.abs(v / n - 1) < 0.015);
  });

  test("shuffle is a permutation and every position is reachable", () => {
    const r = new Rng(9);
    const firstSeen = new Set<number>();
    for (let k = 0; k < 500; k++) {
      const items = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual([...items].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      firstSeen.add(items[0]!);
    }
    assert.equal(firstSeen.size, 8);
    const a = new Rng(1).fork();
    const b = new Rng(1).fork();
    assert.equal(a.nextUint32(), b.nextUint32());
  });
});
