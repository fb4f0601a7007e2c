import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PNG } from "pngjs";
import { run as analyze } from "../../src/cli/analyze.ts";
import { colourOf } from "../../src/eager/analysis/heatmap.ts";
import { maximumAssignment, minimumAssignment } from "../../src/eager/analysis/hungarian.ts";
import { SimilarityAccumulator, headSimilaritySums } from "../../src/eager/analysis/similarity.ts";
import { loadConfig } from "../../src/model/config.ts";
import { initParams } from "../../src/eager/init.ts";
import { saveSafetensors, tensor, type Tensor } from "../../src/torch/index.ts";
import { UsageError } from "../../src/util/errors.ts";
import { pcm16Wav } from "../helpers/wav.ts";

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

test("the Hungarian assignment is optimal: equal to brute force over all permutations", () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let n = 1; n <= 7; n++) {
    const perms = permutations(n);
    for (let trial = 0; trial < 30; trial++) {
      // Small integers make ties common, which is where augmenting-path bugs show.
      const cost = Array.from({ length: n }, () => Array.from({ length: n }, () => (trial % 2 ? Math.floor(rnd() * 4) : rnd() * 10 - 5)));
      const a = minimumAssignment(cost);
      assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i), "a permutation");
      const total = (p: number[]) => p.reduce((s, c, r) => s + cost[r]![c]!, 0);
      const best = Math.min(...perms.map(total));
      assert.ok(Math.abs(total(a) - best) < 1e-9, `n=${n}: ${total(a)} vs ${best}`);
    }
  }
  assert.deepEqual(maximumAssignment([[0, 5], [5, 0]]), [1, 0]);
});

/** Random attention (H, n, n): rows are distributions. */
function randomAttention(H: number, n: number, seed: number): number[] {
  let s = seed;
  const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  const out: number[] = [];
  for (let r = 0; r < H * n; r++) {
    const row = Array.from({ length: n }, () => rnd() ** 3);
    const z = row.reduce((a, b) => a + b, 0);
    out.push(...row.map((v) => v / z));
  }
  return out;
}

test("similarities: hand-computed values for one row pair", () => {
  const p = tensor([[[1, 0]]]);
  const q = tensor([[[0.5, 0.5]]]);
  // m = (0.75, 0.25); JSD = ½(ln(4/3) + ½ln(2/3) + ½ln 2) / ln 2.
  const jsd = (0.5 * (Math.log(4 / 3) + 0.5 * Math.log(2 / 3) + 0.5 * Math.log(2))) / Math.LN2;
  assert.ok(Math.abs((headSimilaritySums(p, q, "js")[0] as number) - (1 - jsd)) < 1e-6);
  assert.ok(Math.abs((headSimilaritySums(p, q, "cosine")[0] as number) - Math.SQRT1_2) < 1e-6);
  assert.ok(Math.abs((headSimilaritySums(p, p, "js")[0] as number) - 1) < 1e-6);
});

test("permuted heads: direct similarity drops, alignment recovers the permutation and similarity 1", () => {
  const H = 4;
  const n = 9;
  const base = randomAttention(H, n, 7);
  const perm = [2, 0, 3, 1]; // head g of the upper layer = head perm⁻¹... built as upper[perm[h]] = lower[h]
  const upper = new Array<number>(base.length);
  for (let h = 0; h < H; h++) for (let k = 0; k < n * n; k++) upper[perm[h]! * n * n + k] = base[h * n * n + k]!;
  const p = tensor(base, { shape: [H, n, n] });
  const q = tensor(upper, { shape: [H, n, n] });
  for (const metric of ["js", "cosine"] as const) {
    const acc = new SimilarityAccumulator(H);
    acc.add("acoustic", 3, false, headSimilaritySums(p, q, metric), n);
    acc.add("acoustic", 3, false, headSimilaritySums(p, q, metric), n); // averaging over utterances keeps it
    const [r] = acc.result();
    assert.deepEqual(r!.permutation, perm, metric);
    assert.ok(Math.abs(r!.aligned - 1) < 1e-5, `${metric} aligned ${r!.aligned}`);
    assert.ok(r!.direct < 0.95, `${metric} direct ${r!.direct}`);
    assert.deepEqual([r!.from, r!.to], [3, 4]);
    for (const row of r!.matrix) for (const v of row) assert.ok(v >= -1e-6 && v <= 1 + 1e-6);
  }
});

test("nast analyze attention: JSON + PNG from a checkpoint and audio files; a bad file is reported, the rest analysed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-analyze-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const cfg = loadConfig("tiny");
  const params = initParams(cfg, { seed: 3 });
  const ckpt = join(dir, "ckpt.safetensors");
  saveSafetensors(ckpt, params as Map<string, Tensor>, { "nast.config": JSON.stringify(cfg) });
  const wavs = [1.3, 0.8].map((seconds, k) => {
    const s = new Float32Array(Math.round(seconds * 16000));
    let x = 99 + k;
    for (let i = 0; i < s.length; i++) s[i] = 0.3 * Math.sin((2 * Math.PI * (200 + 150 * k) * i) / 16000) + 0.05 * ((x = (x * 69069 + 1) % 4294967296) / 4294967296 - 0.5);
    const p = join(dir, `u${k}.wav`);
    writeFileSync(p, pcm16Wav(s));
    return p;
  });
  const missing = join(dir, "missing.wav");
  const out = join(dir, "out");
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await analyze(["attention", "-c", ckpt, "--audio", wavs[0]!, missing, wavs[1]!, "-o", out]);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 1, "a failed input makes the exit code non-zero");
  assert.ok(stderr.join("").includes(missing), "the bad file is named");
  const report = JSON.parse(readFileSync(join(out, "attention-similarity.json"), "utf8"));
  assert.deepEqual(report.utterances, wavs);
  assert.equal(report.metric, "js");
  assert.deepEqual(report.pairs.map((p: { encoder: string; from: number; to: number; toIsLisa: boolean }) => [p.encoder, p.from, p.to, p.toIsLisa]), [
    ["acoustic", 1, 2, true],
    ["textual", 1, 2, true],
  ]);
  for (const p of report.pairs) {
    // Freshly initialised LiSA layers attend exactly like the layer below: the diagonal is 1.
    assert.ok(Math.abs(p.direct - 1) < 1e-5, `direct ${p.direct}`);
    assert.ok(p.aligned >= p.direct - 1e-9);
    assert.deepEqual(p.permutation, [0, 1]);
  }
  const png = PNG.sync.read(readFileSync(join(out, "attention-similarity.png")));
  assert.ok(png.width >= 320 && png.height > 100);
  const [r, g, b] = colourOf(1);
  let hits = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) hits++;
  assert.ok(hits > 100, "the similarity-1 cells are drawn");
});

test("nast analyze: usage errors", async () => {
  await assert.rejects(analyze(["attention", "-o", "x", "--audio", "a.wav"]), (e: Error) => e instanceof UsageError && /-c CKPT is required/.test(e.message));
  await assert.rejects(analyze(["attention", "-c", "c", "-o", "x"]), (e: Error) => e instanceof UsageError && /either --audio/.test(e.message));
  await assert.rejects(analyze(["heads"]), (e: Error) => e instanceof UsageError && /unknown analysis 'heads'/.test(e.message));
  await assert.rejects(analyze(["attention", "-c", "c", "-o", "x", "--audio", "a", "--metric", "kl"]), /--metric must be js or cosine/);
  assert.equal(existsSync("x"), false);
});
