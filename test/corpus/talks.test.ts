// The talk plan: sizes, repetition to reach the hours, held-out engines, determinism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planTalks } from "../../src/corpus/talks.ts";
import type { CorpusEntry } from "../../src/corpus/corpus-text.ts";

const entries: CorpusEntry[] = [
  ...Array.from({ length: 20 }, (_, i) => ({ id: i, split: "train" as const, en: `Train sentence number ${i} is long enough.`, tgt: `Frase ${i}.` })),
  ...Array.from({ length: 4 }, (_, i) => ({ id: 20 + i, split: "dev" as const, en: `Dev sentence ${i} is here.`, tgt: `Dev ${i}.` })),
  ...Array.from({ length: 4 }, (_, i) => ({ id: 24 + i, split: "tst-COMMON" as const, en: `Test sentence ${i} is here.`, tgt: `Test ${i}.` })),
];

test("train sentences are spoken again by other speakers until the hours are reached", () => {
  const talks = planTalks(entries, { seed: 1, hours: 0.1, engines: ["espeak", "festival", "flite"], holdout: ["festival"], augment: true });
  const train = talks.filter((t) => t.split === "train");
  const spoken = train.flatMap((t) => t.segments.map((s) => s.entry.id));
  assert.ok(spoken.length > 40, `${spoken.length} train segments`);
  for (let i = 0; i < 20; i++) assert.ok(spoken.includes(i), `sentence ${i} never spoken`);
  // 3.6 s estimated per segment with pauses: 360 s of train+dev+tst is about 100 segments in all.
  const total = talks.filter((t) => t.split !== "tst-HELDOUT").reduce((n, t) => n + t.segments.length, 0);
  assert.ok(total > 70 && total < 130, `${total} segments`);
  for (const t of talks) {
    assert.ok(t.segments.length >= 1 && t.segments.length <= 15);
    assert.equal(t.speaker.id, `spk.${t.n}`);
    assert.equal(t.speaker.engine === "festival", t.split === "tst-HELDOUT", `${t.split} ${t.speaker.engine}`);
    if (t.split !== "train") assert.deepEqual(t.aug, { speed: 1 });
  }
  assert.ok(train.some((t) => t.aug.speed !== 1 || t.aug.additive || t.aug.reverb), "no augmented train talk");
  assert.deepEqual(talks.map((t) => t.n), talks.map((_, i) => i + 1));
  assert.deepEqual(planTalks(entries, { seed: 1, hours: 0.1, engines: ["espeak", "festival", "flite"], holdout: ["festival"], augment: true }), talks);
});

test("holding out every engine is refused", () => {
  assert.throws(() => planTalks(entries, { seed: 1, engines: ["festival"], holdout: ["festival"], augment: false }), /every engine is held out/);
});
