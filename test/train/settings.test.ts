// The table of training settings (src/train/settings.ts): defaults, checks naming the config key or the flag,
// the curriculum read from a model config's "curriculum" object, and what a checkpoint's config records.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig, validateConfig, PRESETS } from "../../src/model/config.ts";
import { DEFAULT_SETTINGS, resolveSettings, SETTINGS, trainedConfig } from "../../src/train/settings.ts";
import { settingFlags, settingUsage } from "../../src/cli/train-setting-flags.ts";
import { UsageError } from "../../src/util/errors.ts";

test("the defaults are the reference recipe's and the usage shows them by flag", () => {
  assert.equal(DEFAULT_SETTINGS.lr, 1e-3);
  assert.equal(DEFAULT_SETTINGS.maxEpochs, 100);
  assert.equal(DEFAULT_SETTINGS.maxSteps, null);
  assert.deepEqual(DEFAULT_SETTINGS.adamBetas, [0.9, 0.98]);
  const usage = settingUsage();
  assert.match(usage, /--max-frames N +frames per micro-batch, padding included \(default 40000\)/);
  assert.match(usage, /--\[no-\]curriculum +.*\(default on\)/);
  for (const s of Object.values(SETTINGS)) assert.ok(usage.includes(s.kind === "bool" ? `--[no-]${s.flag}` : `--${s.flag} `), s.flag);
});

test("a bad flag is a UsageError naming the flag; a bad train key a ConfigError naming file and key", () => {
  assert.throws(() => settingFlags({ "max-steps": "0" }), (e: Error) => e instanceof UsageError && e.message === '--max-steps must be an integer >= 1, got "0"');
  assert.throws(() => settingFlags({ lr: "x" }), /^UsageError: --lr must be a number >= 0, got "x"/);
  assert.throws(() => settingFlags({ curriculum: true, "no-curriculum": true }), /--curriculum and --no-curriculum: give one/);
  assert.deepEqual(settingFlags({ "also-validate": "a, b", "no-specaugment": true, "curriculum-decay": "10:20:0.2" }), {
    alsoValidate: ["a", "b"],
    specAugment: false,
    curriculumDecay: { startStep: 10, endStep: 20, endRatio: 0.2 },
  });
  const tiny = loadConfig("tiny");
  const bad = (train: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => resolveSettings({ ...tiny, train }, {}, "my.json"), (e: Error) => e instanceof ConfigError && pattern.test(e.message));
  bad({ maxSteps: 0 }, /^my\.json: train\.maxSteps: must be an integer >= 1 or null, got 0$/);
  bad({ warmUp: 5 }, /^my\.json: train\.warmUp: unknown training setting/);
  bad({ curriculumRatio: 2 }, /train\.curriculumRatio: must be a number >= 0 in \[0, 1\], got 2/);
  assert.equal(resolveSettings({ ...tiny, train: { warmup: 0, keepBest: 0 } }, {}, "my.json").warmup, 0);
});

test("the curriculum needs the target PAE", () => {
  const raw = structuredClone(PRESETS.tiny) as Record<string, any>;
  raw.textual.pae = false;
  const cfg = validateConfig(raw, "my.json");
  assert.throws(() => resolveSettings(cfg, {}, "my.json"), /^ConfigError: my\.json: train\.curriculum: the curriculum mixes into the target PAE/);
  assert.throws(() => resolveSettings(cfg, { curriculum: true }, "my.json"), /^UsageError: --curriculum: the curriculum mixes/);
  assert.equal(resolveSettings(cfg, { curriculum: false }, "my.json").curriculum, false);
  assert.equal(resolveSettings(loadConfig("models/configs/ablations/no-pae.json"), {}, "no-pae").curriculum, false);
});

test("a model config's curriculum object is the default of the curriculum settings; enabled false keeps it off", () => {
  const raw = structuredClone(PRESETS.tiny) as Record<string, any>;
  raw.curriculum = { enabled: true, ratio: 0.5, onlyMistakes: false, smoothing: 0, decay: { startStep: 1, endStep: 9, endRatio: 0.1 } };
  raw.train = { curriculumSmoothing: 0.2 };
  const s = resolveSettings(validateConfig(raw), {}, "x");
  assert.deepEqual([s.curriculum, s.curriculumRatio, s.curriculumOnlyMistakes, s.curriculumSmoothing], [true, 0.5, false, 0.2]);
  assert.deepEqual(s.curriculumDecay, { startStep: 1, endStep: 9, endRatio: 0.1 });
  raw.curriculum.enabled = false;
  raw.train = { curriculum: true };
  assert.equal(resolveSettings(validateConfig(raw), {}, "x").curriculum, false);
});

test("a checkpoint's config records how its model was trained, so that --init from it trains the same way", () => {
  const tiny = loadConfig("tiny");
  const settings = resolveSettings(tiny, { curriculum: false, lr: 5e-3 }, "tiny");
  const recorded = validateConfig(JSON.parse(JSON.stringify(trainedConfig(tiny, settings))));
  assert.equal(recorded.train?.curriculum, false);
  assert.equal(recorded.train?.lr, undefined, "run settings such as lr are not the model's");
  const again = resolveSettings(recorded, {}, "ckpt");
  assert.equal(again.curriculum, false);
  assert.equal(resolveSettings(recorded, { curriculum: true }, "ckpt").curriculum, true);
});
