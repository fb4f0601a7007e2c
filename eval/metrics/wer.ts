// Word and character error rates of source transcripts. Normalization (documented choice) is fairseq's
// speech-to-text convention for ASR scoring, `--wer-tokenizer 13a --wer-lowercase --wer-remove-punct`
// (fairseq/scoring/tokenizer.py EvaluationTokenizer of facebookresearch/fairseq; docs/design.md §7.6):
//   1. 13a tokenization (splits ASCII punctuation off words, unescapes &amp; etc.),
//   2. removal of every token made only of Unicode punctuation (category P), so "don't" and "well-known" stay
//      whole while "," "." "¿" "—" go,
//   3. lowercasing.
// WER = 100 · (S + D + I) / reference words, summed over the corpus; CER the same over the characters of the
// normalized text, spaces included (fairseq's character-level WER).
import { pyChars, pyLower, pySplit } from "./python.ts";
import { tokenize13a } from "./tokenizers/13a.ts";

const ONLY_PUNCTUATION = /^\p{P}+$/u;

/** The words WER compares, after the normalization described above. */
export function werWords(sentence: string): string[] {
  return pySplit(tokenize13a(sentence))
    .filter((token) => !ONLY_PUNCTUATION.test(token))
    .map(pyLower);
}

export interface EditCounts {
  substitutions: number;
  deletions: number;
  insertions: number;
  /** matched items */
  hits: number;
}

/**
 * Levenshtein alignment counts. Among equally short alignments the backtrace prefers a match or substitution,
 * then a deletion, then an insertion, so the split between S, D and I is deterministic.
 */
export function editCounts(ref: readonly string[], hyp: readonly string[]): EditCounts {
  const n = ref.length;
  const m = hyp.length;
  const width = m + 1;
  const d = new Uint32Array((n + 1) * width);
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    d[i * width] = i;
    for (let j = 1; j <= m; j++) {
      const diag = (d[(i - 1) * width + j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      const del = (d[(i - 1) * width + j] as number) + 1;
      const ins = (d[i * width + j - 1] as number) + 1;
      d[i * width + j] = Math.min(diag, del, ins);
    }
  }
  const counts: EditCounts = { substitutions: 0, deletions: 0, insertions: 0, hits: 0 };
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = d[i * width + j] as number;
    if (i > 0 && j > 0) {
      const same = ref[i - 1] === hyp[j - 1];
      if (here === (d[(i - 1) * width + j - 1] as number) + (same ? 0 : 1)) {
        if (same) counts.hits++;
        else counts.substitutions++;
        i--;
        j--;
        continue;
      }
    }
    if (i > 0 && here === (d[(i - 1) * width + j] as number) + 1) {
      counts.deletions++;
      i--;
    } else {
      counts.insertions++;
      j--;
    }
  }
  return counts;
}

export interface WerResult extends EditCounts {
  /** word error rate in percent (can exceed 100 when the hypothesis is much longer) */
  wer: number;
  refWords: number;
  hypWords: number;
}

export interface CerResult extends EditCounts {
  /** character error rate in percent */
  cer: number;
  refChars: number;
  hypChars: number;
}

function checkPair(hyps: readonly string[], refs: readonly string[]): void {
  if (hyps.length !== refs.length) {
    throw new Error(`${hyps.length} hypotheses but ${refs.length} references: they must correspond line by line`);
  }
}

function corpusCounts(
  hyps: readonly string[],
  refs: readonly string[],
  items: (s: string) => string[],
): EditCounts & { refItems: number; hypItems: number } {
  checkPair(hyps, refs);
  const total = { substitutions: 0, deletions: 0, insertions: 0, hits: 0, refItems: 0, hypItems: 0 };
  hyps.forEach((hyp, k) => {
    const r = items(refs[k] as string);
    const h = items(hyp);
    const c = editCounts(r, h);
    total.substitutions += c.substitutions;
    total.deletions += c.deletions;
    total.insertions += c.insertions;
    total.hits += c.hits;
    total.refItems += r.length;
    total.hypItems += h.length;
  });
  return total;
}

function rate(c: EditCounts, refItems: number): number {
  const errors = c.substitutions + c.deletions + c.insertions;
  if (refItems > 0) return (100 * errors) / refItems;
  return errors > 0 ? 100 : 0;
}

/** Corpus word error rate; hyps[i] is the transcript of refs[i]. */
export function wer(hyps: readonly string[], refs: readonly string[]): WerResult {
  const { refItems, hypItems, ...c } = corpusCounts(hyps, refs, werWords);
  return { wer: rate(c, refItems), ...c, refWords: refItems, hypWords: hypItems };
}

/** Corpus character error rate over the normalized text (words joined by single spaces). */
export function cer(hyps: readonly string[], refs: readonly string[]): CerResult {
  const { refItems, hypItems, ...c } = corpusCounts(hyps, refs, (s) => pyChars(werWords(s).join(" ")));
  return { cer: rate(c, refItems), ...c, refChars: refItems, hypChars: hypItems };
}
