// Grouping sentences into talks, as MuST-C does (one WAV per talk, one speaker per talk, segments in
// order with pauses between them), and choosing each talk's speaker and augmentation. Pure and
// deterministic for a seed: the plan is made before any audio, so workers can run talks in any order.
import { Rng, hash32 } from "./rng.ts";
import { type CorpusEntry, devSplit, estimateSeconds, meanPauseSeconds, testSplit, trainSplit } from "./corpus-text.ts";
import { type Additive, type AssetCatalog, type Augmentation, type AugmentKind, type Channel, augmentKinds } from "./augment.ts";
import type { NoiseColor } from "./noise.ts";
import { drawRoom } from "./rooms.ts";
import { type Engine, type Speaker, drawEngine, drawSpeaker, testEngines } from "./voices.ts";

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
  /** Augment training talks (dev and test sets never are). */
  augment: boolean;
  /** The augmentation kinds switched on (default all). */
  kinds?: readonly AugmentKind[];
  /** The asset kit's files; without it the real-asset kinds fall back (rooms, coloured noise). */
  catalog?: AssetCatalog;
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
      // The augmentation draws from its own stream: switching it (or a kind of it) off leaves the
      // talk's speaker, pauses and tail as they are.
      const aug = augment ? drawAugmentation(Rng.derive(opts.seed, "augment", split, i), opts.kinds, opts.catalog) : { speed: 1 };
      talks.push({ split, n, speaker, aug, segments, tail: round3(talkRng.uniform(0.2, 0.5)) });
      i += size;
    }
  };
  group(trainSplit, trainSeq, training, opts.augment);
  // dev and tst-COMMON draw only from the engines they had before the others existed (testEngines),
  // so that for a seed and options they stay byte-identical to the shipped model's test sets; the
  // other engines speak training talks only. Training with none of those engines falls back to all.
  const testPool = training.filter((e) => testEngines.includes(e));
  group(devSplit, dev, testPool.length > 0 ? testPool : training, false);
  group(testSplit, test, testPool.length > 0 ? testPool : training, false);
  if (opts.holdout.length > 0) group(heldoutSplit, test, opts.holdout, false);
  return talks;
}

/**
 * A talk's augmentation plan; `kinds` are the kinds switched on, `catalog` the asset kit's files.
 * Each group of kinds draws from its own sub-stream of `rng`, so that switching one kind off leaves
 * the others' draws as they were. Probabilities per talk:
 *   speed   0.9 / 1.0 / 1.1, a third each (Ko et al. 2015)
 *   tempo   20%: sox tempo 0.9-1.1;   pitch 20%: ±200 cents;   vtlp 30%: warp 0.9-1.1
 *   reverb  50%: half a real impulse response (rir), half a simulated room (room)
 *   additive 60%: one source (recorded noise 40%, music 20%, babble 25%, coloured noise 15%), and
 *           a second, different one for 20% of those; SNR noise 5-25 dB, music 15-30 dB, babble
 *           5-20 dB, coloured noise 10-30 dB
 *   level   30%: gain -20..+6 dB, and for half of them clipping (soft or hard) at 0.3-0.8 of the peak
 *   codec   20%: one of telephone band, G.711 (µ/A-law), GSM 06.10, MP3 16-32 kbit/s, Opus 6-16 kbit/s
 * Shares are among the kinds switched on. Without the kit's files a drawn rir becomes a room and a
 * drawn noise/music/babble coloured noise, and `fallback` says so.
 */
export function drawAugmentation(rng: Rng, kinds: readonly AugmentKind[] = augmentKinds, catalog?: AssetCatalog): Augmentation {
  const on = (k: AugmentKind) => kinds.includes(k);
  const base = rng.nextU32();
  const sub = (group: string) => new Rng(hash32(`${base}/${group}`));
  const files = (k: keyof AssetCatalog) => catalog?.[k] ?? [];
  const fallback: string[] = [];
  const aug: Augmentation = { speed: 1 };

  const speed = sub("speed").pick([0.9, 1.0, 1.1]);
  if (on("speed")) aug.speed = speed;
  const voice = sub("voice");
  const [pTempo, tempo, pPitch, cents, pVtlp, warp] = [voice.next(), voice.uniform(0.9, 1.1), voice.next(), voice.int(-200, 200), voice.next(), voice.uniform(0.9, 1.1)];
  if (on("tempo") && pTempo < 0.2) aug.tempo = round3(tempo);
  if (on("pitch") && pPitch < 0.2 && cents !== 0) aug.pitch = cents;
  if (on("vtlp") && pVtlp < 0.3) aug.vtlp = round3(warp);

  const rv = sub("reverb");
  const [pReverb, pReal] = [rv.next(), rv.next()];
  if ((on("rir") || on("room")) && pReverb < 0.5) {
    let real = on("rir") && (!on("room") || pReal < 0.5);
    if (real && files("rir").length === 0) {
      fallback.push("rir->room");
      real = false;
    }
    aug.reverb = real ? { type: "rir", file: rv.pick(files("rir")).file } : { type: "room", ...drawRoom(rv) };
  }

  const ad = sub("additive");
  const weights: [Additive["type"], number][] = [["noise", 0.4], ["music", 0.2], ["babble", 0.25], ["colored", 0.15]];
  const [pAdd, pSecond, u1, u2] = [ad.next(), ad.next(), ad.next(), ad.next()];
  const choose = (u: number, not?: Additive["type"]): Additive["type"] | undefined => {
    const open = weights.filter(([k]) => on(k) && k !== not);
    const total = open.reduce((s, [, w]) => s + w, 0);
    let r = u * total;
    for (const [k, w] of open) if ((r -= w) < 0) return k;
    return open[open.length - 1]?.[0];
  };
  const source = (kind: Additive["type"]): Additive => {
    const snr = { noise: [5, 25], music: [15, 30], babble: [5, 20], colored: [10, 30] }[kind];
    const snrDb = round3(ad.uniform(snr[0]!, snr[1]!));
    if (kind !== "colored") {
      const list = files(kind);
      if (list.length > 0) {
        const f = ad.pick(list);
        return { type: kind, file: f.file, start: round3(ad.uniform(0, f.seconds)), snrDb };
      }
      fallback.push(`${kind}->colored`);
    }
    return { type: "colored", color: ad.pick<NoiseColor>(["white", "pink", "brown"]), snrDb: kind === "colored" ? snrDb : round3(ad.uniform(10, 30)) };
  };
  const first = pAdd < 0.6 ? choose(u1) : undefined;
  if (first) {
    aug.additive = [source(first)];
    const second = pSecond < 0.2 ? choose(u2, first) : undefined;
    if (second) aug.additive.push(source(second));
  }

  const lv = sub("level");
  const [pLevel, gainDb, pClip, hard, clipLevel] = [lv.next(), lv.uniform(-20, 6), lv.next(), lv.next() < 0.5, lv.uniform(0.3, 0.8)];
  if ((on("gain") || on("clip")) && pLevel < 0.3) {
    if (on("gain")) aug.gainDb = Math.round(gainDb * 10) / 10;
    if (on("clip") && (pClip < 0.5 || !on("gain"))) aug.clip = { type: hard ? "hard" : "soft", level: round3(clipLevel) };
  }

  const ch = sub("codec");
  const codecs = (["telephone", "g711", "gsm", "mp3", "opus"] as const).filter(on);
  const [pCodec, uCodec, uLaw, uRate] = [ch.next(), ch.next(), ch.next(), ch.next()];
  if (codecs.length > 0 && pCodec < 0.2) {
    const type = codecs[Math.floor(uCodec * codecs.length)]!;
    const pickRate = (rates: number[]) => rates[Math.floor(uRate * rates.length)]!;
    const channel: Channel =
      type === "g711" ? { type, law: uLaw < 0.5 ? "ulaw" : "alaw" }
      : type === "mp3" ? { type, kbps: pickRate([16, 24, 32]) }
      : type === "opus" ? { type, kbps: pickRate([6, 8, 12, 16]) }
      : { type };
    aug.channel = channel;
  }
  if (fallback.length > 0) aug.fallback = fallback;
  return aug;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
