import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, PRESETS, loadConfig, parseLayerSet, subsampledLength, validateConfig, withVocabSize, type NastConfig } from "../../src/model/config.ts";
import { initParams } from "../../src/eager/init.ts";
import { attentionScoringParams, countParams, lisaParamNames, paramSpecs } from "../../src/model/params.ts";

/**
 * Parameter count written out block by block, independently of paramSpecs, from the module list of
 * docs/model.md §2–§4 and §8 (LiSA: docs/model.md §7.7 "−2d² + 2dr + (2·H·H_f + H_f + H)", plus u and, in the Conformer,
 * the dropped linear_pos and pos_bias_u/v).
 */
function closedFormCount(cfg: NastConfig): number {
  const { dModel: d, heads: H, vocabSize: V } = cfg;
  const ln = 2 * d;
  const lin = (i: number, o: number) => i * o + o;
  const { channels: C, kernel: K, layers: S } = cfg.subsampler;
  let n = 0;
  for (let i = 0; i < S; i++) {
    const inC = i === 0 ? cfg.inputDim : C / 2;
    const outC = i === S - 1 ? 2 * d : C;
    n += inC * outC * K + outC;
  }
  n += ln;
  const { rank: r, ffnDim: hf } = cfg.lisa;
  const lisaExtra = 2 * d * r + r + (hf * H + hf + H * hf + H); // W_Q^LR, W_K^LR, u, head FFN
  const ffn = (f: number) => lin(d, f) + lin(f, d);
  for (let l = 1; l <= cfg.acoustic.layers; l++) {
    const f = cfg.acoustic.ffnDim;
    const fullAttn = 4 * lin(d, d) + d * d + 2 * d; // q k v out + linear_pos + pos_bias_u/v
    const attn = cfg.lisa.acoustic.includes(l) ? 2 * lin(d, d) + lisaExtra : fullAttn;
    const conv = 2 * d * d + d * cfg.acoustic.convKernel + 2 * d + d * d;
    n += 2 * ffn(f) + attn + conv + 5 * ln + (cfg.acoustic.interCtcLayers.includes(l) ? ln : 0);
  }
  n += ln; // acoustic final
  n += V * d + 2 * V; // shared CTC weight + 2 biases
  n += 3 * V * d; // E_pae_src, E_adapter, E_pae_tgt (all presets use all three)
  for (let l = 1; l <= cfg.textual.layers; l++) {
    const attn = cfg.lisa.textual.includes(l) ? 2 * lin(d, d) + lisaExtra : 4 * lin(d, d);
    const cross = cfg.textual.cla.enabled && l > cfg.textual.cla.memoryLayer ? 4 * lin(d, d) + ln : 0;
    n += attn + cross + ffn(cfg.textual.ffnDim) + 2 * ln + (cfg.textual.interCtcLayers.includes(l) ? ln : 0);
  }
  n += ln * (cfg.textual.cla.enabled ? 2 : 1); // memory norm + final norm
  return n;
}

function withoutLisa(cfg: NastConfig): NastConfig {
  return { ...cfg, lisa: { ...cfg.lisa, acoustic: [], textual: [] } };
}

test("presets load and their parameter counts match the block-by-block arithmetic", () => {
  for (const name of Object.keys(PRESETS)) {
    const cfg = loadConfig(name);
    assert.equal(countParams(paramSpecs(cfg)), closedFormCount(cfg), name);
    assert.equal(countParams(paramSpecs(withoutLisa(cfg))), closedFormCount(withoutLisa(cfg)), `${name} without LiSA`);
  }
});

test("repro is the paper-size model (§1.14: ≈149.6M) and small the issue-7 anchor (24.3M without LiSA)", () => {
  const repro = countParams(paramSpecs(loadConfig("repro")));
  assert.ok(Math.abs(repro - 149.6e6) < 0.05e6, `repro has ${repro}`);
  const small = loadConfig("small");
  const anchor = countParams(paramSpecs(withoutLisa(small)));
  assert.ok(Math.abs(anchor - 24.3e6) < 0.05e6, `small without LiSA has ${anchor}`);
  assert.deepEqual([small.dModel, small.heads, small.acoustic.layers, small.textual.layers, small.vocabSize], [256, 4, 8, 6, 4000]);
  assert.ok(countParams(paramSpecs(small)) < anchor, "LiSA layers have fewer Q/K parameters");
  // §3.6: r = d/6 rounded to a multiple of H.
  assert.equal(small.lisa.rank, 44);
  assert.equal(loadConfig("repro").lisa.rank, 88);
});

test("initParams creates exactly the tensors paramSpecs lists, with their shapes and counts", () => {
  for (const name of ["tiny", "small"]) {
    const cfg = loadConfig(name);
    const specs = paramSpecs(cfg);
    const params = initParams(cfg, { seed: 3 });
    assert.deepEqual([...params.keys()], specs.map((s) => s.name));
    let trained = 0;
    for (const s of specs) {
      const t = params.get(s.name)!;
      assert.deepEqual(t.shape, s.shape, s.name);
      assert.equal(t.requiresGrad, !s.buffer, s.name);
      if (!s.buffer) trained += t.numel;
    }
    assert.equal(trained, countParams(specs));
    for (const t of params.values()) t.dispose();
  }
});

test("initialisation follows the specs: seeded, LiSA outputs zero, CTC weight N(0, d^-1/2)", () => {
  const cfg = loadConfig("tiny");
  const a = initParams(cfg, { seed: 11 });
  const b = initParams(cfg, { seed: 11 });
  for (const [name, t] of a) assert.deepEqual(t.toArray(), b.get(name)!.toArray(), name);
  for (const name of ["acoustic.layers.1.attn.lisa.q_lr.weight", "acoustic.layers.1.attn.lisa.u", "acoustic.layers.1.attn.lisa.head_fc2.weight"]) {
    assert.ok(a.get(name)!.toArray().every((v) => v === 0), name);
  }
  const w = a.get("ctc.weight")!.toArray();
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 64 ** -0.5) < 0.01, `std ${std}`);
  const bound = 1 / Math.sqrt(64);
  assert.ok(a.get("acoustic.layers.0.attn.q.weight")!.toArray().every((v) => Math.abs(v) <= bound));
  for (const m of [a, b]) for (const t of m.values()) t.dispose();
});

test("lisaParamNames lists every LiSA parameter and nothing else; teacher specs add the full Q/K", () => {
  const cfg = loadConfig("tiny");
  const names = lisaParamNames(cfg);
  assert.equal(names.length, 2 * 7); // per layer: head_fc1 w,b; head_fc2 w,b; q_lr; k_lr; u
  assert.ok(names.every((n) => /^(acoustic|textual)\.layers\.1\.attn\.lisa\./.test(n)));
  const plain = new Set(paramSpecs(cfg).map((s) => s.name));
  const teacher = paramSpecs(cfg, { teacher: true }).map((s) => s.name).filter((n) => !plain.has(n));
  assert.deepEqual(teacher.sort(), [
    "acoustic.layers.1.attn.k.bias", "acoustic.layers.1.attn.k.weight", "acoustic.layers.1.attn.pos.weight",
    "acoustic.layers.1.attn.pos_bias_u", "acoustic.layers.1.attn.pos_bias_v", "acoustic.layers.1.attn.q.bias",
    "acoustic.layers.1.attn.q.weight", "textual.layers.1.attn.k.bias", "textual.layers.1.attn.k.weight",
    "textual.layers.1.attn.q.bias", "textual.layers.1.attn.q.weight",
  ]);
});

test("layer sets parse from strings and arrays", () => {
  assert.deepEqual(parseLayerSet("5-8,10", "x"), [5, 6, 7, 8, 10]);
  assert.deepEqual(parseLayerSet("", "x"), []);
  assert.deepEqual(parseLayerSet([9, 6, 6], "x"), [6, 9]);
  assert.throws(() => parseLayerSet("8-5", "x"), /runs backwards/);
  assert.throws(() => parseLayerSet("a", "x"), /cannot read "a"/);
});

function rawTiny(): Record<string, unknown> {
  return structuredClone(PRESETS.tiny) as Record<string, unknown>;
}

test("validation errors name the key and say what is allowed", () => {
  const cases: [(r: any) => void, RegExp][] = [
    [(r) => (r.acoustic.layrs = 3), /acoustic\.layrs: unknown key/],
    [(r) => delete r.dModel, /dModel: missing/],
    [(r) => (r.heads = 3), /heads: dModel 64 is not divisible by 3 heads/],
    [(r) => (r.acoustic.interCtcLayers = "3"), /acoustic\.interCtcLayers: layer 3 is outside 1\.\.2/],
    [(r) => (r.lisa.rank = 5), /lisa\.rank: 5 is not a multiple of heads/],
    [(r) => (r.lisa.acoustic = "1-2"), /lisa\.acoustic: layer 1 has no previous layer/],
    [(r) => (r.lisa.shareSpace = "weights"), /lisa\.shareSpace: expected one of "logits", "probs"/],
    [(r) => (r.textual.cla.memoryLayer = 2), /textual\.cla\.memoryLayer: 2 leaves no layer above it/],
    [(r) => (r.dropout = 1), /dropout: 1 must be below 1/],
    [(r) => (r.acoustic.convKernel = 4), /acoustic\.convKernel: 4 must be odd/],
  ];
  for (const [edit, pattern] of cases) {
    const raw = rawTiny();
    edit(raw);
    assert.throws(() => validateConfig(raw, "my.json"), (err: Error) => err instanceof ConfigError && /^my\.json: /.test(err.message) && pattern.test(err.message));
  }
});

test("a config file can extend a preset; bad files get clear errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-cfg-"));
  const file = join(dir, "exp.json");
  writeFileSync(file, JSON.stringify({ extends: "small", lisa: { acoustic: "" }, vocabSize: 500, train: { lr: 1e-3 } }));
  const cfg = loadConfig(file);
  assert.deepEqual(cfg.lisa.acoustic, []);
  assert.deepEqual(cfg.lisa.textual, [4, 5, 6]);
  assert.equal(cfg.vocabSize, 500);
  assert.equal(cfg.dModel, 256);
  // small's curriculum object is read as the defaults of the curriculum's training settings.
  assert.deepEqual(cfg.train, { lr: 1e-3, curriculum: true, curriculumRatio: 0.8, curriculumOnlyMistakes: true, curriculumSmoothing: 0.1, curriculumDecay: null });
  // The resolved config (as embedded in a checkpoint) validates to itself.
  assert.deepEqual(validateConfig(JSON.parse(JSON.stringify(cfg))), cfg);
  const broken = join(dir, "broken.json");
  writeFileSync(broken, "{ nope");
  assert.throws(() => loadConfig(broken), /broken\.json: not valid JSON/);
  assert.throws(() => loadConfig(join(dir, "absent.json")), /absent\.json: cannot read the config .*presets repro, base, small, tiny/);
  const loop = join(dir, "loop.json");
  writeFileSync(loop, JSON.stringify({ extends: loop }));
  assert.throws(() => loadConfig(loop), /cycle/);
  assert.equal(withVocabSize(cfg, 1234).vocabSize, 1234);
  assert.throws(() => withVocabSize(cfg, 1.5), /vocabSize/);
});

test("subsampledLength is ⌊(L−1)/2⌋+1 applied twice (§1.7)", () => {
  const cfg = loadConfig("repro");
  for (let L = 1; L <= 100; L++) {
    const f = (n: number) => Math.floor((n - 1) / 2) + 1;
    assert.equal(subsampledLength(cfg, L), f(f(L)));
  }
});

test("attention-scoring parameters: LiSA layers replace Q/K (+ position terms) by the low-rank pair (§3.5)", () => {
  const cfg = loadConfig("small"); // d 256, H 4, r 44, H_f 8; acoustic 8 layers (LiSA 5-8), textual 6 (LiSA 4-6)
  const d = 256;
  const lisa = 2 * d * 44 + 44 + (8 * 4 + 8 + 4 * 8 + 4);
  const conformerFull = 2 * (d * d + d) + d * d + 2 * d;
  const textualFull = 2 * (d * d + d);
  assert.equal(attentionScoringParams(cfg), 4 * conformerFull + 4 * lisa + 3 * textualFull + 3 * lisa);
  assert.equal(attentionScoringParams(withoutLisa(cfg)), 8 * conformerFull + 6 * textualFull);
});
