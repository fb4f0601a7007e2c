// Speed of BLEU + chrF + TER on a corpus the size of MuST-C tst-COMMON (2,600 segments), one thread:
//   node --import tsx eval/metrics/bench.ts [--segments N] [--repeat R] [--json]
// The corpus is synthetic and deterministic (German-looking words, ~20 per segment, hypotheses made by
// substituting, dropping and moving words), so the figure is repeatable on any machine.
import { parseArgs } from "node:util";
import { Bleu } from "./bleu.ts";
import { Chrf } from "./chrf.ts";
import { corpusScore, type Metric } from "./metric.ts";
import { Pcg64 } from "./numpy-random.ts";
import { Ter } from "./ter/index.ts";

const WORDS = (
  "der die das und ist nicht ein eine zu den von mit sich des auf für im dem es wir ich sie er aber auch " +
  "wenn man so wie noch nur oder was kann sehr Menschen Jahren Welt heute Ozeane Wasser Klima Energie " +
  "Forschung Zukunft Gehirn Stadt Kinder Frage Antwort Geschichte Leben Arbeit Zeit wirklich eigentlich " +
  "vielleicht gemeinsam verändern verstehen erzählen glauben möchte können müssen große kleine neue Straße"
).split(" ");
const PUNCT = [".", ",", "?", "!", ":"];

function corpus(segments: number, rng: Pcg64): { hyps: string[]; refs: string[] } {
  const hyps: string[] = [];
  const refs: string[] = [];
  for (let s = 0; s < segments; s++) {
    const len = 5 + rng.below(30);
    const ref: string[] = [];
    for (let k = 0; k < len; k++) ref.push(WORDS[rng.below(WORDS.length)] as string);
    const hyp = ref.slice();
    const edits = rng.below(6);
    for (let e = 0; e < edits && hyp.length > 1; e++) {
      const i = rng.below(hyp.length);
      const kind = rng.below(3);
      if (kind === 0) hyp[i] = WORDS[rng.below(WORDS.length)] as string;
      else if (kind === 1) hyp.splice(i, 1);
      else hyp.splice(rng.below(hyp.length), 0, ...hyp.splice(i, 1 + rng.below(3)));
    }
    refs.push(`${ref.join(" ")}${PUNCT[rng.below(PUNCT.length)]}`);
    hyps.push(`${hyp.join(" ")}${PUNCT[rng.below(PUNCT.length)]}`);
  }
  return { hyps, refs };
}

const { values } = parseArgs({
  options: {
    segments: { type: "string", default: "2600" },
    repeat: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const segments = Number(values.segments);
const repeat = Number(values.repeat);
const { hyps, refs } = corpus(segments, new Pcg64(2026));
const metrics: Record<string, Metric> = { BLEU: new Bleu(), chrF: new Chrf(), TER: new Ter() };

// Best of `repeat` runs; the first run includes JIT warm-up.
const best: Record<string, number> = {};
const scores: Record<string, number> = {};
for (let r = 0; r < repeat; r++) {
  for (const [name, metric] of Object.entries(metrics)) {
    const t = performance.now();
    scores[name] = corpusScore(metric, hyps, [refs], { warn: () => {} }).score;
    const ms = performance.now() - t;
    best[name] = Math.min(best[name] ?? Infinity, ms);
  }
}
const total = Object.values(best).reduce((a, b) => a + b, 0);
if (values.json) {
  process.stdout.write(`${JSON.stringify({ segments, repeat, ms: best, totalMs: total, scores })}\n`);
} else {
  for (const [name, ms] of Object.entries(best)) process.stdout.write(`${name.padEnd(5)} ${ms.toFixed(1).padStart(8)} ms   score ${scores[name]?.toFixed(2)}\n`);
  process.stdout.write(`total ${total.toFixed(1).padStart(8)} ms for ${segments} segments (best of ${repeat}, one thread)\n`);
}
