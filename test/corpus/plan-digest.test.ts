// dev, tst-COMMON and tst-HELDOUT are the synthetic test sets the shipped model is compared on: for a
// seed and options their talk plans (speakers, pauses, segments) must stay exactly what they were before
// the human-like engines were added, whichever of those engines are also in training. The digests
// below were computed with the code of that time (three engines: espeak, festival, flite).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { planTalks, type TalkOptions } from "../../src/corpus/talks.ts";
import type { CorpusEntry } from "../../src/corpus/corpus-text.ts";
import { type Engine, engines, testEngines } from "../../src/corpus/voices.ts";

const words = ["talk", "model", "speech", "river", "quiet", "number", "house", "yellow", "sound", "people"];
const sentence = (i: number) => Array.from({ length: 4 + ((i * 7) % 23) }, (_, k) => words[(i * 3 + k * 5) % words.length]).join(" ") + ".";
const entries: CorpusEntry[] = [
  ...Array.from({ length: 300 }, (_, i) => ({ id: i, split: "train" as const, en: sentence(i), tgt: `t${i}` })),
  ...Array.from({ length: 40 }, (_, i) => ({ id: 300 + i, split: "dev" as const, en: sentence(300 + i), tgt: `d${i}` })),
  ...Array.from({ length: 40 }, (_, i) => ({ id: 340 + i, split: "tst-COMMON" as const, en: sentence(340 + i), tgt: `c${i}` })),
];

const newEngines = engines.filter((e) => !testEngines.includes(e));

const scenarios: { opts: TalkOptions; talks: number; digest: string }[] = [
  // gpu-corpus.sh's settings: --holdout-engine festival.
  { opts: { seed: 1, hours: 1, engines: ["espeak", "festival", "flite"], holdout: ["festival"], augment: true }, talks: 12, digest: "6971e03161cd829b46e3711b1ec04811e42037b1090f3aa1c7d7f7869f50f5db" },
  // synth.test.ts's: --engines espeak,flite --holdout-engine festival (the CLI appends held-out engines).
  { opts: { seed: 7, hours: 0.2, engines: ["espeak", "flite", "festival"], holdout: ["festival"], augment: true }, talks: 14, digest: "66b2e9c5be0c966934cbc54b5d0b85067e2b0d5cb8328ee3702210aa14bed143" },
  // Every engine in training, no held-out split.
  { opts: { seed: 3, engines: ["espeak", "festival", "flite"], holdout: [], augment: false }, talks: 9, digest: "6a0f95aa7f8e177c54d95f3004a3e5dfc9469c039f7fb622d700152ec4b26fdf" },
];

const heldAndTest = (opts: TalkOptions) => planTalks(entries, opts).filter((t) => t.split !== "train");
const digest = (x: unknown) => createHash("sha256").update(JSON.stringify(x)).digest("hex");

test("dev/test plans of the three original engines are unchanged (digests from before the new engines)", () => {
  for (const s of scenarios) {
    const talks = heldAndTest(s.opts);
    assert.equal(talks.length, s.talks, `seed ${s.opts.seed}`);
    assert.equal(digest(talks), s.digest, `seed ${s.opts.seed}`);
  }
});

test("adding the new engines to training changes train only: dev/test plans keep their digests", () => {
  for (const s of scenarios) {
    for (const extra of [newEngines, ["mbrola"] as Engine[], [...newEngines].reverse()]) {
      const opts = { ...s.opts, engines: [...s.opts.engines, ...extra] };
      assert.equal(digest(heldAndTest(opts)), s.digest, `seed ${s.opts.seed} with ${extra.join(",")}`);
      // New engines first in the list: the pool of the original engines keeps its order.
      const first = { ...s.opts, engines: [...extra, ...s.opts.engines] };
      assert.equal(digest(heldAndTest(first)), s.digest, `seed ${s.opts.seed} with ${extra.join(",")} first`);
    }
    const all = planTalks(entries, { ...s.opts, engines: [...s.opts.engines, ...newEngines] });
    const trainEngines = new Set(all.filter((t) => t.split === "train").map((t) => t.speaker.engine));
    for (const e of newEngines) assert.ok(trainEngines.has(e), `seed ${s.opts.seed}: no training talk by ${e}`);
    for (const t of all.filter((t) => t.split !== "train")) {
      assert.ok(testEngines.includes(t.speaker.engine), `${t.split} ${t.n} spoken by ${t.speaker.engine}`);
    }
  }
});

test("a held-out new engine speaks tst-HELDOUT; training on new engines alone gives dev/test new engines", () => {
  const held = planTalks(entries, { seed: 2, hours: 0.3, engines: [...engines], holdout: ["mbrola"], augment: true });
  for (const t of held) assert.equal(t.speaker.engine === "mbrola", t.split === "tst-HELDOUT", `${t.split} ${t.speaker.engine}`);
  const onlyNew = planTalks(entries, { seed: 2, hours: 0.3, engines: ["rhvoice", "pico"], holdout: [], augment: true });
  for (const t of onlyNew) assert.ok(["rhvoice", "pico"].includes(t.speaker.engine), `${t.split} ${t.speaker.engine}`);
});
