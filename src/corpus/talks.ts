// Grouping sentences into talks, as MuST-C does (one WAV per talk, one speaker per talk, segments in
// order with pauses between them), and choosing each talk's speaker and augmentation. Pure and
// deterministic for a seed: the plan is made before any audio, so workers can run talks in any order.
import { Rng } from "./rng.ts";
import { type CorpusEntry, devSplit, estimateSeconds, meanPauseSeconds, testSplit, trainSplit } from "./corpus-text.ts";
import type { Augmentation, NoiseColor } from "./effects.ts";
import { type Engine, type Speaker, drawEngine, drawSpeaker } from "./voices.ts";

/** The extra split: tst-COMMON's sentences spoken only by the held-out engine(s). */
export const heldoutSplit = "tst-HELDOUT";

export interface SegmentPlan {
  entry: CorpusEntry;
  /** Silence before the segment, seconds. */
  pause: number;
}

export interface TalkPlan {
  split: string;
  /** MuST-C style talk number: wav ted_<n>.wav, speaker spk.<n>. */
  n: number;
  speaker: Speaker;
  aug: Augmentation;
  segments: SegmentPlan[];
  /** Silence after the last segment, seconds. */
  tail: number;
}

export interface TalkOptions {
  seed: number;
  /** Total hours wanted for train+dev+tst-COMMON; train sentences are spoken again by other speakers to reach it. */
  hours?: number;
  engines: Engine[];
  holdout: Engine[];
  /** Augment training talks (speed, reverb, noise). */
  augment: boolean;
}

export function planTalks(entries: readonly CorpusEntry[], opts: TalkOptions): TalkPlan[] {
  const training = opts.engines.filter((e) => !opts.holdout.includes(e));
  if (training.length === 0) throw new Error("every engine is held out: keep at least one in --engines outside --holdout-engine");
  const bySplit = (s: string) => entries.filter((e) => e.split === s);
  const train = bySplit(trainSplit);
  const dev = bySplit(devSplit);
  const test = bySplit(testSplit);
  const est = (list: readonly CorpusEntry[]) => list.reduce((s, e) => s + estimateSeconds(e.en) + meanPauseSeconds, 0);

  // Train passes: every train sentence once, then again in new orders (other talks, other speakers)
  // until the hours are reached.
  const trainSeq: CorpusEntry[] = [];
  const target = opts.hours !== undefined ? opts.hours * 3600 - est(dev) - est(test) : 0;
  let total = 0;
  for (let pass = 0; pass === 0 || total < target; pass++) {
    const order = Rng.derive(opts.seed, "train-order", pass).shuffle([...train]);
    for (const e of order) {
      if (pass > 0 && total >= target) break;
      trainSeq.push(e);
      total += estimateSeconds(e.en) + meanPauseSeconds;
    }
    if (train.length === 0) break;
  }

  const talks: TalkPlan[] = [];
  const group = (split: string, seq: readonly CorpusEntry[], pool: Engine[], augment: boolean) => {
    const rng = Rng.derive(opts.seed, "talks", split);
    for (let i = 0; i < seq.length; ) {
      const size = rng.int(5, 15);
      const n = talks.length + 1;
      const talkRng = Rng.derive(opts.seed, "talk", split, i);
      const speaker = drawSpeaker(`spk.${n}`, drawEngine(pool, talkRng), talkRng);
      const segments = seq.slice(i, i + size).map((entry, k) => ({
        entry,
        pause: round3(k === 0 ? talkRng.uniform(0.1, 0.5) : talkRng.uniform(0.25, 0.8)),
      }));
      talks.push({ split, n, speaker, aug: augment ? drawAugmentation(talkRng) : { speed: 1 }, segments, tail: round3(talkRng.uniform(0.2, 0.5)) });
      i += size;
    }
  };
  group(trainSplit, trainSeq, training, opts.augment);
  group(devSplit, dev, training, false);
  group(testSplit, test, training, false);
  if (opts.holdout.length > 0) group(heldoutSplit, test, opts.holdout, false);
  return talks;
}

/**
 * A training talk's augmentation: speed 0.9/1.0/1.1 with equal probability; reverberation for 30% of
 * talks (a random room); additive noise for half of them at 10-30 dB SNR.
 */
function drawAugmentation(rng: Rng): Augmentation {
  const aug: Augmentation = { speed: rng.pick([0.9, 1.0, 1.1]) };
  if (rng.next() < 0.3) {
    aug.reverb = { reverberance: rng.int(20, 80), hfDamping: rng.int(20, 80), roomScale: rng.int(30, 100) };
  }
  if (rng.next() < 0.5) {
    aug.noise = { snrDb: round3(rng.uniform(10, 30)), color: rng.pick<NoiseColor>(["white", "pink", "brown"]) };
  }
  return aug;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
