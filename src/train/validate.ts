// Validation: greedy decoding of the dev set (the autoregressive model: greedy search, src/infer/ar-search.ts;
// CTC-NAST: greedy CTC, docs/model.md §6: argmax per frame, collapse repeats,
// drop blank 0, SentencePiece decode; the decoder of nast translate, src/infer/ctc.ts) for BLEU, greedy CTC on the source head for WER, scored
// with eval/metrics (sacreBLEU-identical corpus BLEU).
import { corpusBleu, wer } from "../../eval/metrics/index.ts";
import type { FeatureStore } from "../data/feature-store.ts";
import { batchesByFrames } from "../data/batching.ts";
import { greedyDecode } from "../infer/ctc.ts";
import { isArConfig, type ModelConfig } from "../model/config.ts";
import { EagerArStepper } from "../eager/ar-stepper.ts";
import { EagerOps } from "../eager/eager-ops.ts";
import { greedySearch } from "../infer/ar-search.ts";
import { forward } from "../model/nast.ts";
import type { SentencePiece } from "../text/sentencepiece.ts";
import { autocast, noGrad, tidy, type Tensor } from "../torch/index.ts";
import { collate } from "./batch.ts";
import { toDevice } from "./step.ts";

export interface ValidationResult {
  bleu: number;
  bleuSignature: string;
  srcWer: number;
  utterances: number;
  hyps: string[];
  seconds: number;
}

export interface ValidateOptions {
  cfg: ModelConfig;
  params: Map<string, Tensor>;
  device: string;
  bf16: boolean;
  store: FeatureStore;
  spm: SentencePiece;
  maxFrames: number;
  /** Use only the first N utterances of the store. */
  limit: number | null;
}

/** Greedy (B, T') decodings of a logits tensor (B, T', V) with per-utterance valid lengths. */
function decodeBatch(logits: Tensor, lengths: number[], spm: SentencePiece): string[] {
  const am = logits.argmax(2).to("cpu").data() as BigInt64Array;
  const Tp = logits.shape[1]!;
  return lengths.map((len, b) => spm.decode(greedyDecode(am.subarray(b * Tp, (b + 1) * Tp), undefined, Math.min(len, Tp)).tokens.map((t) => t.id)));
}

export function validate(opts: ValidateOptions): ValidationResult {
  const start = performance.now();
  const n = opts.limit === null ? opts.store.size : Math.min(opts.limit, opts.store.size);
  const frames = opts.store.frames().slice(0, n);
  const hyps = new Array<string>(n).fill("");
  const srcHyps = new Array<string>(n).fill("");
  const ops = new EagerOps(opts.params, false);
  // A fixed order (seed 0, epoch 0); the order does not change the result, only the padding.
  for (const indices of batchesByFrames(frames.map((f) => Math.min(f, opts.maxFrames)), opts.maxFrames, 0, 0)) {
    noGrad(() =>
      tidy(() => {
        const host = collate(opts.store, indices, null);
        const b = toDevice(host, opts.device);
        const { cfg } = opts;
        if (isArConfig(cfg)) {
          // Greedy autoregressive decoding with a key/value cache, at most T' tokens (docs/model.md §10.3).
          const stepper = EagerArStepper.encode(cfg, opts.params, b.feats, b.lengths, opts.device, opts.bf16);
          try {
            const lens = stepper.encoded.outLengths.to("cpu").toArray();
            greedySearch(stepper, lens).forEach((h, k) => (hyps[indices[k]!] = opts.spm.decode(h.tokens)));
            decodeBatch(stepper.encoded.srcLogits, lens, opts.spm).forEach((h, k) => (srcHyps[indices[k]!] = h));
          } finally {
            stepper.dispose();
          }
          return;
        }
        const run = () => forward(ops, cfg, b.feats, b.lengths);
        const out = opts.bf16 ? autocast(run, "bfloat16") : run();
        const lens = out.outLengths.to("cpu").toArray();
        decodeBatch(out.tgtLogits, lens, opts.spm).forEach((h, k) => (hyps[indices[k]!] = h));
        decodeBatch(out.srcLogits, lens, opts.spm).forEach((h, k) => (srcHyps[indices[k]!] = h));
      }),
    );
  }
  const refs = Array.from({ length: n }, (_, i) => opts.store.meta(i).tgt);
  const srcRefs = Array.from({ length: n }, (_, i) => opts.store.meta(i).src);
  const bleu = corpusBleu(hyps, [refs]);
  return {
    bleu: bleu.score,
    bleuSignature: bleu.signature,
    srcWer: wer(srcHyps, srcRefs).wer,
    utterances: n,
    hyps,
    seconds: (performance.now() - start) / 1000,
  };
}
