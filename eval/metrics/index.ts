// sacreBLEU-identical BLEU, chrF/chrF++ and TER (sacreBLEU 2.6.0), WER/CER, and paired significance tests.
// The API the rest of nast relies on (docs/design.md §3.1): corpusBleu / corpusChrf / corpusTer return
// {name, score, signature, format(width)}.
export { Bleu, BleuScore, computeBleu, corpusBleu, sentenceBleu, SMOOTH_DEFAULTS, SMOOTH_METHODS } from "./bleu.ts";
export type { BleuOptions, SmoothMethod } from "./bleu.ts";
export { Chrf, chrfWords, corpusChrf, sentenceChrf } from "./chrf.ts";
export type { ChrfOptions } from "./chrf.ts";
export { corpusTer, sentenceTer, Ter, TerScore, terTokenize, translationEditRate } from "./ter/index.ts";
export type { TerOptions } from "./ter/index.ts";
export { corpusScore, corpusStatistics, sentenceScore, sumStatistics } from "./metric.ts";
export type { Metric, ReferenceStreams } from "./metric.ts";
export { Score } from "./score.ts";
export type { FormatOptions } from "./score.ts";
export { SACREBLEU_VERSION, Signature } from "./signature.ts";
export { isTokenizerName, tokenize13a, tokenizeChar, tokenizeIntl, tokenizeZh, TOKENIZER_NAMES, TOKENIZERS } from "./tokenizers/index.ts";
export type { TokenizerName } from "./tokenizers/index.ts";
export { cer, editCounts, wer, werWords } from "./wer.ts";
export type { CerResult, WerResult } from "./wer.ts";
