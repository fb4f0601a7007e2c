// The MuST-C evaluation harness (`nast eval`, recipes/mustc/eval.sh): translate every segment of a split in
// MuST-C layout (docs/design.md §7.1) with an exported model, then score as the reference recipe does
// (egs/mustc/st/run.sh of xuchennlp/S2T; docs/design.md §7.4, §7.6): sacreBLEU-identical BLEU, chrF2 and
// TER of the detokenized, case-sensitive output against the .<tgt> references, source WER of the source CTC
// transcript against the .<src> transcripts, and speed. Each talk's audio is decoded once and its segments are
// cut at int(offset·16000) for int(duration·16000) samples (fairseq's get_waveform), then batched by length.
//
// With `segment` "silero" or "energy" the YAML segmentation is not used for translating: each talk is
// cut by that segmenter (src/infer/vad.ts), as `nast translate` cuts a talk, and since its segments
// do not line up with the references, scoring is at the talk level: each talk's hypotheses and its
// references are joined in time order and BLEU/chrF/TER are computed with one "sentence" per talk. The
// talk-level scores of the YAML (oracle) segmentation are reported in every mode, so the numbers
// compare. (The usual alternative, re-segmenting the hypotheses to the references by edit distance
// with mwerSegmenter, Matusov et al., IWSLT 2005, is not done here.) The automatic segments are also
// compared with the YAML ones: how many YAML segments they cover, how far their boundaries are.
import { decodeAudio } from "../../src/audio/decode.ts";
import { fbankFrameCount } from "../../src/audio/fbank.ts";
import { readMustcSplit, type Segment, type Talk } from "../../src/data/mustc.ts";
import type { SpeechSegment } from "../../src/audio/segment.ts";
import { loadModelPackage } from "../../src/formats/model-package.ts";
import { openSession } from "../../src/infer/session.ts";
import { Translator } from "../../src/infer/translator.ts";
import { type Decoded } from "../../src/infer/segment-translator.ts";
import { loadSegmenter } from "../../src/infer/vad.ts";
import { SEGMENTERS, type Segmenter, type SegmenterName } from "../../src/infer/segmenters.ts";
import { Progress } from "../../src/util/progress.ts";
import { errorMessage } from "../../src/util/errors.ts";
import { corpusBleu, corpusChrf, corpusTer, wer, type Score } from "../metrics/index.ts";

/** How talks are cut for translation: the YAML segments (oracle), or a segmenter. */
export const SEGMENTATIONS = ["oracle", ...SEGMENTERS] as const;
export type Segmentation = (typeof SEGMENTATIONS)[number];

/** A YAML boundary is matched when an automatic one is at most this far (seconds). */
const BOUNDARY_TOLERANCE = 0.5;
/**
 * A YAML segment may end this far past the end of its talk's audio (rounding of offsets and durations;
 * fairseq's read is then just short); one that ends later, or starts at or past the end, is a failure.
 */
export const END_TOLERANCE_SECONDS = 0.1;

export interface EvalOptions {
  root: string;
  pair: string;
  split: string;
  /** Model package; undefined: models/default. */
  modelDir: string | undefined;
  beam?: number;
  topK?: number;
  /** The target CTC's blank penalty (src/infer/ctc.ts greedyDecodePenalized); default: the package's. */
  blankPenalty?: number;
  batchSize?: number;
  threads?: number;
  progress?: boolean;
  /** Default "oracle" (the YAML segments). */
  segment?: Segmentation;
  /** Another Silero VAD .onnx than the one in node_modules (comparing model versions). */
  vadModel?: string;
  /** Warnings (a segmenter that falls back, a talk without speech). */
  warn?: (message: string) => void;
}

export interface MetricReport {
  name: string;
  score: number;
  signature: string;
  /** The line sacreBLEU's command line prints, e.g. "BLEU|nrefs:1|…|version:2.6.0 = 27.3 58.1/33.0/…". */
  text: string;
}

export interface WerReport {
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  refWords: number;
  hypWords: number;
}

/** How automatic segments compare with the YAML segments (summed over talks). */
export interface BoundaryReport {
  /** YAML segments at least half inside automatic segments. */
  covered: number;
  /** YAML segments whose start and end are both within `tolerance` s of an automatic start and end. */
  matched: number;
  tolerance: number;
  /** Distance of each YAML start (end) to the nearest automatic start (end), seconds. */
  startError: { mean: number; median: number };
  endError: { mean: number; median: number };
  /** Share of the YAML segments' time inside automatic segments, and of the automatic time inside YAML segments. */
  speechRecall: number;
  speechPrecision: number;
  /** Seconds in automatic segments. */
  segmentSeconds: number;
}

export interface EvalReport {
  model: string;
  corpus: {
    root: string;
    pair: string;
    split: string;
    yaml: string;
    talks: number;
    segments: number;
    /** Seconds in YAML segments. */
    audioSeconds: number;
    /** Seconds of the talks' audio (what an automatic segmentation reads). */
    talkSeconds: number;
  };
  decoding: { method: "greedy" | "beam"; beam: number; topK: number; blankPenalty: number; batch: number; threads: number | null };
  segmentation: {
    method: Segmentation;
    /** Segments translated (YAML segments, or the automatic ones). */
    segments: number;
    /** Automatic segmentations only. */
    boundaries: BoundaryReport | null;
  };
  /** What `metrics` and `sourceWer` score: YAML segments (oracle) or whole talks (automatic). */
  scoring: "segment" | "talk";
  translated: number;
  metrics: { bleu: MetricReport; chrf: MetricReport; ter: MetricReport };
  sourceWer: WerReport;
  /** Talk-level scores in every mode (the oracle's too): one joined hypothesis and reference per talk. */
  talkLevel: { bleu: MetricReport; chrf: MetricReport; sourceWer: WerReport };
  speed: {
    wallSeconds: number;
    /** Wall time / audio time: YAML segment time (oracle), talk time (automatic); lower is faster. */
    realTimeFactor: number;
    segmentsPerSecond: number;
    /** Seconds in each stage: decoding audio, features, the network, CTC decoding (the rest is scoring, I/O). */
    stages: { audio: number; features: number; network: number; ctc: number };
  };
  /**
   * Talks whose audio could not be read, and YAML segments that lie outside their talk's audio (these
   * with `yaml` and `line`): their segments count as empty hypotheses.
   */
  failures: { talk: string; wav: string; segments: number; error: string; yaml?: string; line?: number }[];
  date: string;
}

export interface EvalResult {
  report: EvalReport;
  /** What `metrics` scored: in YAML order (oracle), or one per talk (automatic): translations and source transcripts. */
  hyps: string[];
  srcHyps: string[];
  /** One per talk, in talk order: joined hypotheses and references (target and source). */
  talks: { talk: string; hyp: string; srcHyp: string; ref: string; srcRef: string }[];
  /** Automatic segmentations: each talk's segments (seconds) and their text. */
  segments: { talk: string; segments: { start: number; end: number; translation: string; source: string }[] }[] | null;
}

/** A talk's segments in time order (the YAML order is fairseq's, by offset string). */
function inTime(talk: Talk): Segment[] {
  return [...talk.segments].sort((a, b) => a.offset - b.offset || a.line - b.line);
}

function joinText(parts: readonly string[]): string {
  return parts
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .join(" ");
}

function werReport(w: ReturnType<typeof wer>): WerReport {
  return {
    wer: Number(w.wer.toFixed(4)),
    substitutions: w.substitutions,
    deletions: w.deletions,
    insertions: w.insertions,
    refWords: w.refWords,
    hypWords: w.hypWords,
  };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Seconds of [a, b) inside the union of sorted, non-overlapping spans. */
function overlap(a: number, b: number, spans: readonly [number, number][]): number {
  let total = 0;
  for (const [s, e] of spans) total += Math.max(0, Math.min(b, e) - Math.max(a, s));
  return total;
}

interface BoundaryTally {
  covered: number;
  matched: number;
  startErrors: number[];
  endErrors: number[];
  yamlSeconds: number;
  yamlInAuto: number;
  autoSeconds: number;
  autoInYaml: number;
}

/** Adds one talk's comparison of automatic segments (seconds) with its YAML segments to `t`. */
function tallyBoundaries(t: BoundaryTally, yaml: readonly [number, number][], auto: readonly [number, number][]): void {
  const nearest = (x: number, points: number[]): number => points.reduce((d, p) => Math.min(d, Math.abs(p - x)), Infinity);
  const starts = auto.map((s) => s[0]);
  const ends = auto.map((s) => s[1]);
  for (const [a, b] of yaml) {
    const inside = overlap(a, b, auto);
    if (inside >= 0.5 * (b - a)) t.covered++;
    const ds = auto.length > 0 ? nearest(a, starts) : b - a;
    const de = auto.length > 0 ? nearest(b, ends) : b - a;
    if (ds <= BOUNDARY_TOLERANCE && de <= BOUNDARY_TOLERANCE) t.matched++;
    t.startErrors.push(ds);
    t.endErrors.push(de);
    t.yamlSeconds += b - a;
    t.yamlInAuto += inside;
  }
  const merged = mergeSpans(yaml);
  for (const [a, b] of auto) {
    t.autoSeconds += b - a;
    t.autoInYaml += overlap(a, b, merged);
  }
}

/** YAML segments may overlap a little: their union, sorted. */
function mergeSpans(spans: readonly [number, number][]): [number, number][] {
  const sorted = [...spans].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function boundaryReport(t: BoundaryTally): BoundaryReport {
  const r3 = (x: number) => Number(x.toFixed(3));
  return {
    covered: t.covered,
    matched: t.matched,
    tolerance: BOUNDARY_TOLERANCE,
    startError: { mean: r3(mean(t.startErrors)), median: r3(median(t.startErrors)) },
    endError: { mean: r3(mean(t.endErrors)), median: r3(median(t.endErrors)) },
    speechRecall: r3(t.yamlSeconds > 0 ? t.yamlInAuto / t.yamlSeconds : 0),
    speechPrecision: r3(t.autoSeconds > 0 ? t.autoInYaml / t.autoSeconds : 0),
    segmentSeconds: r3(t.autoSeconds),
  };
}

function metric(s: Score): MetricReport {
  return { name: s.name, score: Number(s.score.toFixed(4)), signature: s.signature, text: s.format(1) };
}

export async function evaluateMustc(opts: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const method: Segmentation = opts.segment ?? "oracle";
  const split = readMustcSplit(opts.root, opts.pair, opts.split);
  const pkg = loadModelPackage(opts.modelDir);
  const session = await openSession(pkg, { threads: opts.threads });
  const translator = new Translator(pkg, session, { beam: opts.beam, topK: opts.topK, batchSize: opts.batchSize, ...(opts.blankPenalty !== undefined ? { blankPenalty: opts.blankPenalty } : {}) });
  const warn = opts.warn ?? (() => {});
  const segmenter: Segmenter | null = method === "oracle" ? null : await loadSegmenter(method as SegmenterName, warn, opts.vadModel);

  const n = split.segments.length;
  const hyps: (string | undefined)[] = new Array(n);
  const srcHyps: (string | undefined)[] = new Array(n);
  const failures: EvalReport["failures"] = [];
  const progress = new Progress({
    total: segmenter ? split.talks.length : n,
    label: `${opts.pair} ${opts.split}`,
    unit: segmenter ? " talks" : " seg",
    enabled: opts.progress,
  });
  // Hypotheses go in YAML order: a segment's rank by line (blank and comment lines take none).
  const position = new Map([...split.segments].sort((a, b) => a.line - b.line).map((seg, i) => [seg, i]));
  const index = (seg: Segment): number => position.get(seg)!;
  const talkOut: EvalResult["talks"] = [];
  const autoOut: NonNullable<EvalResult["segments"]> = [];
  const tally: BoundaryTally = { covered: 0, matched: 0, startErrors: [], endErrors: [], yamlSeconds: 0, yamlInAuto: 0, autoSeconds: 0, autoInYaml: 0 };
  let talkSeconds = 0;
  let autoSegments = 0;

  for (const talk of split.talks) {
    const ordered = inTime(talk);
    const ref = joinText(ordered.map((s) => s.tgt));
    const srcRef = joinText(ordered.map((s) => s.src));
    let samples: Float32Array;
    const ta = performance.now();
    try {
      samples = (await decodeAudio(talk.wav)).samples;
    } catch (err) {
      failures.push({ talk: talk.talk, wav: talk.wav, segments: talk.segments.length, error: errorMessage(err) });
      for (const seg of talk.segments) {
        hyps[index(seg)] = "";
        srcHyps[index(seg)] = "";
      }
      talkOut.push({ talk: talk.talk, hyp: "", srcHyp: "", ref, srcRef });
      if (segmenter) {
        autoOut.push({ talk: talk.talk, segments: [] });
        tallyBoundaries(tally, ordered.map((s) => [s.offset, s.offset + s.duration]), []);
      }
      progress.tick(segmenter ? 1 : talk.segments.length);
      continue;
    } finally {
      translator.timings.audio += (performance.now() - ta) / 1000;
    }
    talkSeconds += samples.length / 16000;
    // YAML segments outside the audio are failures, named by file and line; the others go on.
    const outside = new Set<Segment>();
    for (const seg of [...talk.segments].sort((a, b) => a.line - b.line)) {
      const end = seg.startSample + seg.numSamples;
      if (seg.startSample < samples.length && end <= samples.length + Math.round(END_TOLERANCE_SECONDS * 16000)) continue;
      outside.add(seg);
      const where = seg.startSample >= samples.length ? "starts" : "ends";
      failures.push({
        talk: talk.talk,
        wav: talk.wav,
        segments: 1,
        yaml: talk.yamlPath,
        line: seg.line,
        error:
          `${talk.yamlPath}:${seg.line}: segment ${round(seg.offset)}–${round(seg.offset + seg.duration)} s ${where} past the end of ` +
          `${talk.wav} (${round(samples.length / 16000)} s of audio${where === "ends" ? `, ${END_TOLERANCE_SECONDS} s of slack` : ""})`,
      });
      hyps[index(seg)] = "";
      srcHyps[index(seg)] = "";
    }

    if (segmenter) {
      const tv = performance.now();
      const auto: SpeechSegment[] = await segmenter.segment(samples, 16000, { maxSeconds: 20 });
      translator.timings.audio += (performance.now() - tv) / 1000;
      if (auto.length === 0) warn(`${talk.wav}: no speech found by the ${segmenter.name} segmenter; the talk is scored as empty`);
      const decoded = await translateSpans(translator, samples, auto.map((s) => [s.start, s.end]));
      autoSegments += auto.length;
      const spans = auto.map((s): [number, number] => [s.start / 16000, s.end / 16000]);
      tallyBoundaries(tally, ordered.map((s) => [s.offset, s.offset + s.duration]), spans);
      autoOut.push({
        talk: talk.talk,
        segments: auto.map((s, i) => ({ start: round(s.start / 16000), end: round(s.end / 16000), translation: decoded[i]!.translation, source: decoded[i]!.source })),
      });
      talkOut.push({ talk: talk.talk, hyp: joinText(decoded.map((d) => d.translation)), srcHyp: joinText(decoded.map((d) => d.source)), ref, srcRef });
      progress.tick(1);
      continue;
    }

    const segs = talk.segments.filter((s) => !outside.has(s));
    progress.tick(outside.size);
    // fairseq reads int(duration·sr) samples from int(offset·sr); a segment that ends a little past the
    // audio gets what there is (soundfile returns a short read there too).
    const spans = segs.map((s): [number, number] => {
      const start = Math.min(s.startSample, samples.length);
      return [start, Math.min(samples.length, start + s.numSamples)];
    });
    const decoded = await translateSpans(translator, samples, spans, (k) => progress.tick(k));
    segs.forEach((s, i) => {
      hyps[index(s)] = decoded[i]!.translation;
      srcHyps[index(s)] = decoded[i]!.source;
    });
    talkOut.push({ talk: talk.talk, hyp: joinText(ordered.map((s) => hyps[index(s)]!)), srcHyp: joinText(ordered.map((s) => srcHyps[index(s)]!)), ref, srcRef });
  }
  progress.finish();
  await session.release();
  await segmenter?.release();

  const refs = new Array<string>(n);
  const srcRefs = new Array<string>(n);
  for (const s of split.segments) {
    refs[index(s)] = s.tgt;
    srcRefs[index(s)] = s.src;
  }
  const talkHyps = talkOut.map((t) => t.hyp);
  const talkRefs = talkOut.map((t) => t.ref);
  const talkBleu = metric(corpusBleu(talkHyps, [talkRefs]));
  const talkChrf = metric(corpusChrf(talkHyps, [talkRefs]));
  const talkWer = werReport(wer(talkOut.map((t) => t.srcHyp), talkOut.map((t) => t.srcRef)));

  let scored: { hyps: string[]; srcHyps: string[]; metrics: EvalReport["metrics"]; sourceWer: WerReport };
  if (segmenter) {
    // TER at the talk level costs seconds per talk (its shift search grows with the square of the length).
    scored = {
      hyps: talkHyps,
      srcHyps: talkOut.map((t) => t.srcHyp),
      metrics: { bleu: talkBleu, chrf: talkChrf, ter: metric(corpusTer(talkHyps, [talkRefs])) },
      sourceWer: talkWer,
    };
  } else {
    const missing = split.segments.find((s) => hyps[index(s)] === undefined);
    if (missing) throw new Error(`${split.yamlPath}: segment on line ${missing.line} got no hypothesis (internal error)`);
    const tgtHyps = hyps as string[];
    const srcOut = srcHyps as string[];
    if (tgtHyps.length !== n) throw new Error(`${split.yamlPath}: ${tgtHyps.length} hypotheses for ${n} segments`);
    scored = {
      hyps: tgtHyps,
      srcHyps: srcOut,
      metrics: { bleu: metric(corpusBleu(tgtHyps, [refs])), chrf: metric(corpusChrf(tgtHyps, [refs])), ter: metric(corpusTer(tgtHyps, [refs])) },
      sourceWer: werReport(wer(srcOut, srcRefs)),
    };
  }
  const wall = (performance.now() - t0) / 1000;
  const audioSeconds = split.segments.reduce((a, s) => a + s.duration, 0);
  const rtfBase = segmenter ? talkSeconds : audioSeconds;
  const translatedSegments = segmenter ? autoSegments : n;
  const t = translator.timings;
  const report: EvalReport = {
    model: opts.modelDir ?? pkg.dir,
    corpus: {
      root: opts.root,
      pair: opts.pair,
      split: opts.split,
      yaml: split.yamlPath,
      talks: split.talks.length,
      segments: n,
      audioSeconds: Number(audioSeconds.toFixed(3)),
      talkSeconds: Number(talkSeconds.toFixed(3)),
    },
    decoding: { method: (opts.beam ?? 0) > 1 ? "beam" : "greedy", beam: opts.beam ?? 0, topK: opts.topK ?? 40, blankPenalty: translator.blankPenalty, batch: opts.batchSize ?? 8, threads: opts.threads ?? null },
    segmentation: { method: segmenter ? segmenter.name : "oracle", segments: translatedSegments, boundaries: segmenter ? boundaryReport(tally) : null },
    scoring: segmenter ? "talk" : "segment",
    translated: n - failures.reduce((a, f) => a + f.segments, 0),
    metrics: scored.metrics,
    sourceWer: scored.sourceWer,
    talkLevel: { bleu: talkBleu, chrf: talkChrf, sourceWer: talkWer },
    speed: {
      wallSeconds: Number(wall.toFixed(3)),
      realTimeFactor: Number((rtfBase > 0 ? wall / rtfBase : 0).toFixed(4)),
      segmentsPerSecond: Number((translatedSegments / wall).toFixed(3)),
      stages: { audio: round(t.audio), features: round(t.features), network: round(t.network), ctc: round(t.ctc) },
    },
    failures,
    date: new Date().toISOString(),
  };
  return { report, hyps: scored.hyps, srcHyps: scored.srcHyps, talks: talkOut, segments: segmenter ? autoOut : null };
}

/** Translates sample ranges [a, b) of one talk, batched by length; results in input order. */
async function translateSpans(translator: Translator, samples: Float32Array, spans: readonly [number, number][], onBatch?: (done: number) => void): Promise<Decoded[]> {
  const frames = spans.map(([a, b]) => fbankFrameCount(b - a, 16000));
  return translator.translateAll(
    spans.length,
    (i) => frames[i]!,
    (i) => translator.features(samples.subarray(spans[i]![0], spans[i]![1])),
    onBatch,
  );
}

function round(x: number): number {
  return Number(x.toFixed(3));
}

export function reportMarkdown(r: EvalReport): string {
  const m = r.metrics;
  const share = (x: number): string => `${((100 * x) / Math.max(r.speed.wallSeconds, 1e-9)).toFixed(1)}%`;
  const lines = [
    `# nast eval: ${r.corpus.pair} ${r.corpus.split}`,
    "",
    `Model: \`${r.model}\`; decoding: ${r.decoding.method}${r.decoding.method === "beam" ? ` (beam ${r.decoding.beam}, top-${r.decoding.topK})` : ""}${r.decoding.blankPenalty !== 0 ? `, blank penalty ${r.decoding.blankPenalty}` : ""}; ${r.date}.`,
    `Corpus: \`${r.corpus.yaml}\`: ${r.corpus.segments} segments in ${r.corpus.talks} talks, ${(r.corpus.audioSeconds / 3600).toFixed(2)} h of audio; ${r.translated} segments translated` +
      (r.failures.length > 0 ? `, ${r.corpus.segments - r.translated} not (${r.failures.length} failure${r.failures.length === 1 ? "" : "s"}, below).` : "."),
    r.scoring === "segment"
      ? "Segmentation: the YAML segments (oracle); scores per segment, and per talk below."
      : `Segmentation: ${r.segmentation.method}, ${r.segmentation.segments} segments in ${(r.corpus.talkSeconds / 3600).toFixed(2)} h of talks; scores per talk (hypotheses and references of each talk joined in time order).`,
    "",
    "| metric | score | signature |",
    "| --- | ---: | --- |",
    `| BLEU | ${m.bleu.score.toFixed(2)} | \`${m.bleu.signature}\` |`,
    `| chrF2 | ${m.chrf.score.toFixed(2)} | \`${m.chrf.signature}\` |`,
    `| TER | ${m.ter.score.toFixed(2)} | \`${m.ter.signature}\` |`,
    `| source WER (13a, lowercased, no punctuation) | ${r.sourceWer.wer.toFixed(2)} | S ${r.sourceWer.substitutions}, D ${r.sourceWer.deletions}, I ${r.sourceWer.insertions}, ${r.sourceWer.refWords} reference words |`,
    "",
    "```",
    m.bleu.text,
    m.chrf.text,
    m.ter.text,
    "```",
    "",
  ];
  if (r.scoring === "segment") {
    const t = r.talkLevel;
    lines.push(`Talk level (${r.corpus.talks} talks, to compare with automatic segmentations): BLEU ${t.bleu.score.toFixed(2)}, chrF2 ${t.chrf.score.toFixed(2)}, source WER ${t.sourceWer.wer.toFixed(2)}.`, "");
  }
  const b = r.segmentation.boundaries;
  if (b) {
    lines.push(
      `Against the YAML segments: ${b.covered} of ${r.corpus.segments} at least half inside automatic segments, ${b.matched} with both boundaries within ${b.tolerance} s; ` +
        `boundary error start ${b.startError.mean.toFixed(2)} s mean / ${b.startError.median.toFixed(2)} s median, end ${b.endError.mean.toFixed(2)} / ${b.endError.median.toFixed(2)} s; ` +
        `${(100 * b.speechRecall).toFixed(1)}% of the YAML time inside automatic segments, ${(100 * b.speechPrecision).toFixed(1)}% of the automatic time (${(b.segmentSeconds / 3600).toFixed(2)} h) inside YAML segments.`,
      "",
    );
  }
  lines.push(
    `Speed: ${r.speed.wallSeconds.toFixed(1)} s wall, real-time factor ${r.speed.realTimeFactor.toFixed(4)}, ${r.speed.segmentsPerSecond.toFixed(2)} segments/s ` +
      `(audio decoding${r.scoring === "talk" ? " and segmentation" : ""} ${share(r.speed.stages.audio)}, features ${share(r.speed.stages.features)}, network ${share(r.speed.stages.network)}, CTC decoding ${share(r.speed.stages.ctc)}).`,
  );
  if (r.failures.length > 0) {
    const empty = r.scoring === "segment" ? "scored as an empty hypothesis" : "its reference is still part of the talk's";
    lines.push("", "## Failures", "", ...r.failures.map((f) => (f.line !== undefined ? `- ${f.error} (${empty})` : `- ${f.talk} (${f.segments} segments scored as empty): ${f.error}`)));
  }
  return `${lines.join("\n")}\n`;
}
