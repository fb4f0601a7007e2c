// The MuST-C evaluation harness (`nast eval`, recipes/mustc/eval.sh): translate every segment of a split in
// MuST-C layout (../shared/reference/ecosystem.md §2.2) with an exported model, then score as the reference
// recipe does (nast-lisa.md §1.12; ecosystem.md §7): sacreBLEU-identical BLEU, chrF2 and TER of the detokenized,
// case-sensitive output against the .<tgt> references, source WER of the source CTC transcript against the
// .<src> transcripts, and speed. Each talk's audio is decoded once and its segments are cut at
// int(offset·16000) for int(duration·16000) samples (fairseq's get_waveform), then batched by length.
import { decodeAudio } from "../../src/audio/decode.ts";
import { fbankFrameCount } from "../../src/audio/fbank.ts";
import { readMustcSplit, type Segment } from "../../src/data/mustc.ts";
import { loadModelPackage } from "../../src/infer/model-package.ts";
import { NastSession } from "../../src/infer/session.ts";
import { Translator } from "../../src/infer/translator.ts";
import { Progress } from "../../src/util/progress.ts";
import { errorMessage } from "../../src/util/errors.ts";
import { corpusBleu, corpusChrf, corpusTer, wer, type Score } from "../metrics/index.ts";

export interface EvalOptions {
  root: string;
  pair: string;
  split: string;
  /** Model package; undefined: models/default. */
  modelDir: string | undefined;
  beam?: number;
  topK?: number;
  batchSize?: number;
  threads?: number;
  progress?: boolean;
}

export interface MetricReport {
  name: string;
  score: number;
  signature: string;
  /** The line sacreBLEU's command line prints, e.g. "BLEU|nrefs:1|…|version:2.6.0 = 27.3 58.1/33.0/…". */
  text: string;
}

export interface EvalReport {
  model: string;
  corpus: { root: string; pair: string; split: string; yaml: string; talks: number; segments: number; audioSeconds: number };
  decoding: { method: "greedy" | "beam"; beam: number; topK: number; batch: number; threads: number | null };
  translated: number;
  metrics: { bleu: MetricReport; chrf: MetricReport; ter: MetricReport };
  sourceWer: { wer: number; substitutions: number; deletions: number; insertions: number; refWords: number; hypWords: number };
  speed: {
    wallSeconds: number;
    /** Wall time / audio time (lower is faster). */
    realTimeFactor: number;
    segmentsPerSecond: number;
    /** Seconds in each stage: decoding audio, features, the network, CTC decoding (the rest is scoring, I/O). */
    stages: { audio: number; features: number; network: number; ctc: number };
  };
  /** Talks whose audio could not be read: their segments count as empty hypotheses. */
  failures: { talk: string; wav: string; segments: number; error: string }[];
  date: string;
}

export interface EvalResult {
  report: EvalReport;
  /** In YAML order: hypotheses (translations) and source transcripts. */
  hyps: string[];
  srcHyps: string[];
}

function metric(s: Score): MetricReport {
  return { name: s.name, score: Number(s.score.toFixed(4)), signature: s.signature, text: s.format(1) };
}

export async function evaluateMustc(opts: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const split = readMustcSplit(opts.root, opts.pair, opts.split);
  const pkg = loadModelPackage(opts.modelDir);
  const session = await NastSession.create(pkg, { threads: opts.threads });
  const translator = new Translator(pkg, session, { beam: opts.beam, topK: opts.topK, batchSize: opts.batchSize });

  const n = split.segments.length;
  const hyps: (string | undefined)[] = new Array(n);
  const srcHyps: (string | undefined)[] = new Array(n);
  const failures: EvalReport["failures"] = [];
  const progress = new Progress({ total: n, label: `${opts.pair} ${opts.split}`, unit: " seg", enabled: opts.progress });
  const index = (seg: Segment): number => seg.line - 1;

  for (const talk of split.talks) {
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
      progress.tick(talk.segments.length);
      continue;
    } finally {
      translator.timings.audio += (performance.now() - ta) / 1000;
    }
    const segs = talk.segments;
    // fairseq reads int(duration·sr) samples from int(offset·sr); a segment past the end of the audio
    // gets what there is (soundfile returns a short read there too).
    const span = (s: Segment): [number, number] => {
      const start = Math.min(s.startSample, samples.length);
      return [start, Math.min(samples.length, start + s.numSamples)];
    };
    const frames = segs.map((s) => {
      const [a, b] = span(s);
      return fbankFrameCount(b - a, 16000);
    });
    const decoded = await translator.translateAll(
      segs.length,
      (i) => frames[i]!,
      (i) => {
        const [a, b] = span(segs[i]!);
        return translator.features(samples.subarray(a, b));
      },
      (k) => progress.tick(k),
    );
    segs.forEach((s, i) => {
      hyps[index(s)] = decoded[i]!.translation;
      srcHyps[index(s)] = decoded[i]!.source;
    });
  }
  progress.finish();
  await session.release();

  const missing = hyps.findIndex((h) => h === undefined);
  if (missing >= 0) throw new Error(`${split.yamlPath}: segment on line ${missing + 1} got no hypothesis (internal error)`);
  const tgtHyps = hyps as string[];
  const srcOut = srcHyps as string[];
  if (tgtHyps.length !== n) throw new Error(`${split.yamlPath}: ${tgtHyps.length} hypotheses for ${n} segments`);
  const refs = new Array<string>(n);
  const srcRefs = new Array<string>(n);
  for (const s of split.segments) {
    refs[index(s)] = s.tgt;
    srcRefs[index(s)] = s.src;
  }
  const bleu = corpusBleu(tgtHyps, [refs]);
  const chrf = corpusChrf(tgtHyps, [refs]);
  const ter = corpusTer(tgtHyps, [refs]);
  const w = wer(srcOut, srcRefs);
  const wall = (performance.now() - t0) / 1000;
  const audioSeconds = split.segments.reduce((a, s) => a + s.duration, 0);
  const t = translator.timings;
  const report: EvalReport = {
    model: opts.modelDir ?? pkg.dir,
    corpus: { root: opts.root, pair: opts.pair, split: opts.split, yaml: split.yamlPath, talks: split.talks.length, segments: n, audioSeconds: Number(audioSeconds.toFixed(3)) },
    decoding: { method: (opts.beam ?? 0) > 1 ? "beam" : "greedy", beam: opts.beam ?? 0, topK: opts.topK ?? 40, batch: opts.batchSize ?? 8, threads: opts.threads ?? null },
    translated: n - failures.reduce((a, f) => a + f.segments, 0),
    metrics: { bleu: metric(bleu), chrf: metric(chrf), ter: metric(ter) },
    sourceWer: {
      wer: Number(w.wer.toFixed(4)),
      substitutions: w.substitutions,
      deletions: w.deletions,
      insertions: w.insertions,
      refWords: w.refWords,
      hypWords: w.hypWords,
    },
    speed: {
      wallSeconds: Number(wall.toFixed(3)),
      realTimeFactor: Number((audioSeconds > 0 ? wall / audioSeconds : 0).toFixed(4)),
      segmentsPerSecond: Number((n / wall).toFixed(3)),
      stages: { audio: round(t.audio), features: round(t.features), network: round(t.network), ctc: round(t.ctc) },
    },
    failures,
    date: new Date().toISOString(),
  };
  return { report, hyps: tgtHyps, srcHyps: srcOut };
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
    `Model: \`${r.model}\`; decoding: ${r.decoding.method}${r.decoding.method === "beam" ? ` (beam ${r.decoding.beam}, top-${r.decoding.topK})` : ""}; ${r.date}.`,
    `Corpus: \`${r.corpus.yaml}\`: ${r.corpus.segments} segments in ${r.corpus.talks} talks, ${(r.corpus.audioSeconds / 3600).toFixed(2)} h of audio; ${r.translated} segments translated.`,
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
    `Speed: ${r.speed.wallSeconds.toFixed(1)} s wall, real-time factor ${r.speed.realTimeFactor.toFixed(4)}, ${r.speed.segmentsPerSecond.toFixed(2)} segments/s ` +
      `(audio decoding ${share(r.speed.stages.audio)}, features ${share(r.speed.stages.features)}, network ${share(r.speed.stages.network)}, CTC decoding ${share(r.speed.stages.ctc)}).`,
  ];
  if (r.failures.length > 0) {
    lines.push("", "## Failures", "", ...r.failures.map((f) => `- ${f.talk} (${f.segments} segments scored as empty): ${f.error}`));
  }
  return `${lines.join("\n")}\n`;
}
