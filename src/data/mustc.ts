// MuST-C reader (docs/design.md §7.1):
//   ROOT/<src>-<tgt>/data/<split>/wav/<talk>.wav
//   ROOT/<src>-<tgt>/data/<split>/txt/<split>.yaml   one `- {duration: …, offset: …, speaker_id: …, wav: …}` per segment
//   ROOT/<src>-<tgt>/data/<split>/txt/<split>.<src>  line i = transcript of segment i
//   ROOT/<src>-<tgt>/data/<split>/txt/<split>.<tgt>  line i = translation of segment i
// Segment order and ids follow fairseq's prep_mustc_data.py: texts attach by YAML position, segments
// are grouped by consecutive wav, sorted within a talk by the offset *string* (yaml BaseLoader keeps
// values as strings), and named `<wav stem>_<position in that order>`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.ts";
import { readUtf8Lines } from "./text-lines.ts";
import { readSegmentYaml, type YamlSegment } from "./yaml-segments.ts";

export const MUSTC_SAMPLE_RATE = 16000;

export interface Segment {
  /** fairseq utterance id, e.g. ted_767_0. */
  id: string;
  /** Talk = wav file stem, e.g. ted_767. */
  talk: string;
  /** Absolute or ROOT-relative path of the talk wav. */
  wav: string;
  /** Seconds, as written in the YAML. */
  offset: number;
  duration: number;
  /** First sample and sample count, exactly as fairseq: int(float(offset) * sr), int(float(duration) * sr). */
  startSample: number;
  numSamples: number;
  speaker: string;
  src: string;
  tgt: string;
  /** 1-based line of the YAML (= line of the text files) this segment came from. */
  line: number;
}

export interface Talk {
  talk: string;
  wav: string;
  /** The YAML its segments come from (several corpora can make one split: readMustcSplits). */
  yamlPath: string;
  segments: Segment[];
}

export interface MustcSplit {
  pair: string;
  split: string;
  srcLang: string;
  tgtLang: string;
  dir: string;
  yamlPath: string;
  srcPath: string;
  tgtPath: string;
  talks: Talk[];
  segments: Segment[];
}

export function parsePair(pair: string): [string, string] {
  const m = /^([A-Za-z]{2,3})-([A-Za-z]{2,3})$/.exec(pair);
  if (!m) throw new InputError(pair, "is not a language pair like en-es");
  return [m[1]!, m[2]!];
}

export function mustcSplitDir(root: string, pair: string, split: string): string {
  return join(root, pair, "data", split);
}

export function readMustcSplit(root: string, pair: string, split: string): MustcSplit {
  const [srcLang, tgtLang] = parsePair(pair);
  const dir = mustcSplitDir(root, pair, split);
  const yamlPath = join(dir, "txt", `${split}.yaml`);
  const srcPath = join(dir, "txt", `${split}.${srcLang}`);
  const tgtPath = join(dir, "txt", `${split}.${tgtLang}`);
  const yaml = readSegmentYaml(yamlPath);
  const src = readUtf8Lines(srcPath);
  const tgt = readUtf8Lines(tgtPath);
  if (yaml.length !== src.length || yaml.length !== tgt.length) {
    throw new InputError(
      yamlPath,
      `has ${yaml.length} segments but ${srcPath} has ${src.length} lines and ${tgtPath} has ${tgt.length} lines; ` +
        `line i of the text files belongs to segment i, so all three must agree (is a file truncated or from another release?)`,
    );
  }

  const talks: Talk[] = [];
  const seen = new Map<string, number>();
  let i = 0;
  while (i < yaml.length) {
    const wavName = yaml[i]!.wav;
    let j = i;
    while (j < yaml.length && yaml[j]!.wav === wavName) j++;
    const firstLine = seen.get(wavName);
    if (firstLine !== undefined) {
      throw new InputError(
        `${yamlPath}:${yaml[i]!.line}`,
        `segments of ${wavName} resume here after other talks (first run at line ${firstLine}); a talk's segments must be consecutive, or fairseq-style ids would repeat`,
      );
    }
    seen.set(wavName, yaml[i]!.line);
    talks.push(makeTalk(dir, yamlPath, yaml.slice(i, j), src, tgt, i));
    i = j;
  }
  return { pair, split, srcLang, tgtLang, dir, yamlPath, srcPath, tgtPath, talks, segments: talks.flatMap((t) => t.segments) };
}

function makeTalk(dir: string, yamlPath: string, group: YamlSegment[], src: string[], tgt: string[], first: number): Talk {
  const wavName = group[0]!.wav;
  const talk = wavName.replace(/\.[^./]*$/, "");
  const wav = join(dir, "wav", wavName);
  const indexed = group.map((seg, k) => ({ seg, index: first + k }));
  // Python's sorted() on the offset strings: stable, by code point.
  indexed.sort((a, b) => (a.seg.offset < b.seg.offset ? -1 : a.seg.offset > b.seg.offset ? 1 : 0));
  const segments = indexed.map(({ seg, index }, position): Segment => {
    const offset = Number(seg.offset);
    const duration = Number(seg.duration);
    return {
      id: `${talk}_${position}`,
      talk,
      wav,
      offset,
      duration,
      startSample: Math.trunc(offset * MUSTC_SAMPLE_RATE),
      numSamples: Math.trunc(duration * MUSTC_SAMPLE_RATE),
      speaker: seg.speaker,
      src: src[index]!,
      tgt: tgt[index]!,
      line: seg.line,
    };
  });
  return { talk, wav, yamlPath, segments };
}

/**
 * One split made of the same split of several corpora in MuST-C layout (e.g. a synthetic corpus and a
 * real-speech one), talks in root order. A root without the split is passed over; the split must exist
 * in at least one root, and a talk name may occur in one root only, since utterance ids are
 * `<talk>_<n>` and features are stored per talk.
 */
export function readMustcSplits(roots: readonly string[], pair: string, split: string): MustcSplit {
  const present = roots.filter((r) => existsSync(mustcSplitDir(r, pair, split)));
  if (present.length === 0) {
    const where = roots.map((r) => mustcSplitDir(r, pair, split)).join(", ");
    throw new InputError(where, `split ${split} not found${roots.length > 1 ? " in any --mustc root" : ""}; check --mustc, --pair and --splits`);
  }
  const parts = present.map((r) => readMustcSplit(r, pair, split));
  if (parts.length === 1) return parts[0]!;
  const owner = new Map<string, string>();
  for (const part of parts) {
    for (const t of part.talks) {
      const first = owner.get(t.talk);
      if (first !== undefined) throw new InputError(part.yamlPath, `talk ${t.talk} is also in ${first}; talk names must differ between --mustc roots`);
      owner.set(t.talk, part.yamlPath);
    }
  }
  const talks = parts.flatMap((p) => p.talks);
  return { ...parts[0]!, talks, segments: talks.flatMap((t) => t.segments) };
}

/**
 * The split with its translations replaced by the lines of `path`, line i for segment i in the order the split's
 * YAML (or, for several roots, their YAMLs one after another) lists them: sequence-level knowledge distillation
 * (Kim & Rush 2016) trains on a teacher's translations, e.g. the hyp.<tgt> of `nast eval --split train` with the
 * autoregressive model (docs/model.md §10.6).
 */
export function withTargets(split: MustcSplit, path: string): MustcSplit {
  const lines = readUtf8Lines(path);
  if (lines.length !== split.segments.length) {
    throw new InputError(path, `has ${lines.length} lines but the ${split.split} split has ${split.segments.length} segments (${split.yamlPath}); give one translation per YAML segment, in its order`);
  }
  let k = 0;
  const talks = split.talks.map((t) => ({ ...t, segments: t.segments.map((s) => ({ ...s, tgt: lines[k++]!.trim() })) }));
  return { ...split, tgtPath: path, talks, segments: talks.flatMap((t) => t.segments) };
}

/**
 * The samples of one segment from its talk's 16 kHz audio, as fairseq's soundfile read(start, frames):
 * a segment running past the end of the audio comes back short (possibly empty).
 */
export function segmentSamples(talkSamples: Float32Array, seg: { startSample: number; numSamples: number }): Float32Array {
  const start = Math.min(seg.startSample, talkSamples.length);
  return talkSamples.subarray(start, Math.min(seg.startSample + seg.numSamples, talkSamples.length));
}
