// MODEL_CARD.md of an exported model package: a generated skeleton (what the model is, how it was
// made, how to run and evaluate it) that the person publishing the model completes.
import { basename } from "node:path";
import type { ArConfig, NastConfig } from "../model/config.ts";
import type { Int8Scope } from "./int8.ts";

export interface CardInput<C = NastConfig> {
  cfg: C;
  checkpoint: string;
  metadata: Record<string, string>;
  parameters: number;
  bytes: number;
  /** What the exporter stored: weightsLabel() of ./exporter.ts. */
  weights: string;
  /** The products taken in integers (none without int8). */
  int8: readonly Int8Scope[];
}

function layers(list: number[]): string {
  return list.length === 0 ? "none" : list.join(", ");
}

const AT_LOAD: Record<string, string> = { float32: "", float16: " (cast to float32 at load)" };
const INT8_TEXT: Record<Int8Scope, string> = { linear: "the linear layers", embeddings: "the PAE and adapter embedding products", conv: "the subsampler's convolutions" };

/** How the weights are stored, in words: "int8 for the linear layers … (dynamic quantization), float16 for the rest …". */
function weightsText(weights: string, int8: readonly Int8Scope[]): string {
  const rest = weights.replace(/^int8\+/, "");
  if (int8.length === 0) return `${rest}${AT_LOAD[rest] ?? ""}`;
  const parts = int8.map((s) => INT8_TEXT[s]);
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]!}`;
  return `int8 for ${list} (dynamic quantization), ${rest} for the rest${AT_LOAD[rest] ?? ""}`;
}

export function modelCard({ cfg, checkpoint, metadata, parameters, bytes, weights, int8 }: CardInput): string {
  const step = metadata["nast.step"];
  const bleu = metadata["nast.dev_bleu"];
  return `# Model card: ${basename(checkpoint)}

${cfg.description}

## Model

- Architecture: CTC-NAST (Xu et al., ACL 2023), non-autoregressive speech translation with CTC heads; no decoder.
- Acoustic encoder: ${cfg.acoustic.layers} Conformer layers (d=${cfg.dModel}, ${cfg.heads} heads, FFN ${cfg.acoustic.ffnDim}, conv kernel ${cfg.acoustic.convKernel}); InterCTC + PAE after layers ${layers(cfg.acoustic.interCtcLayers)}.
- Textual encoder: ${cfg.textual.layers} Transformer layers (FFN ${cfg.textual.ffnDim}); cross-layer attention ${cfg.textual.cla.enabled ? `to the output of layer ${cfg.textual.cla.memoryLayer}` : "off"}; InterCTC + PAE after layers ${layers(cfg.textual.interCtcLayers)}.
- LiSA attention sharing: acoustic layers ${layers(cfg.lisa.acoustic)}; textual layers ${layers(cfg.lisa.textual)}.
- Vocabulary: SentencePiece unigram, ${cfg.vocabSize} pieces (spm.model), CTC blank = id 0.
- Parameters: ${(parameters / 1e6).toFixed(2)} M; model.onnx ${(bytes / 2 ** 20).toFixed(1)} MiB, weights stored as ${weightsText(weights, int8)}.
- Training: checkpoint \`${basename(checkpoint)}\`${step ? `, step ${step}` : ""}${bleu ? `, dev BLEU ${bleu}` : ""}. Training data: _to be completed_.

## Inputs and outputs (model.onnx, opset 17)

- \`feats\` (B, T, ${cfg.inputDim}) float32: 80-bin Kaldi fbank (int16 scale), utterance CMVN.
- \`lengths\` (B) int64: valid frames per utterance.
- \`tgt_log_probs\` (B, T', V), \`tgt_ids\` (B, T') int64, \`tgt_scores\` (B, T'): target CTC log-probabilities, per-frame argmax and its log-probability.
- \`src_ids\` (B, T') int64: per-frame argmax of the source (transcript) CTC head.
- \`out_lengths\` (B) int64: valid output frames; one output frame = ${(0.01 * 2 ** cfg.subsampler.layers * 1000).toFixed(0)} ms.

config.json holds the resolved configuration; the same JSON is embedded in model.onnx (metadata "nast.config").

## Use

\`\`\`
nast translate talk.mp3 -m <this directory> -f all -o out/
\`\`\`

## Evaluation

_Run \`nast eval --mustc ROOT --pair en-es --split tst-COMMON -m <this directory>\` and paste report.md here._

## Limitations

_To be completed: languages, domains, audio conditions the model was trained on; known failure modes._
`;
}

/** The model card of an autoregressive model package (docs/model.md §10). */
export function arModelCard({ cfg, checkpoint, metadata, parameters, bytes, weights, int8 }: CardInput<ArConfig>): string {
  const step = metadata["nast.step"];
  const bleu = metadata["nast.dev_bleu"];
  const dh = cfg.dModel / cfg.heads;
  return `# Model card: ${basename(checkpoint)}

${cfg.description}

## Model

- Architecture: the autoregressive counterpart of CTC-NAST (docs/model.md §10): the acoustic encoder with an auxiliary source CTC, and a Transformer decoder; for \`nast bench speedup\`.
- Acoustic encoder: ${cfg.acoustic.layers} Conformer layers (d=${cfg.dModel}, ${cfg.heads} heads, FFN ${cfg.acoustic.ffnDim}, conv kernel ${cfg.acoustic.convKernel}); InterCTC + PAE after layers ${layers(cfg.acoustic.interCtcLayers)}; LiSA layers ${layers(cfg.lisa.acoustic)}.
- Decoder: ${cfg.decoder.layers} pre-LN Transformer layers (FFN ${cfg.decoder.ffnDim}), cross-attention to the encoder, target embedding shared with the output projection; trained with label smoothing ${cfg.decoder.labelSmoothing} and ${cfg.decoder.ctcWeight} × source CTC.
- Vocabulary: SentencePiece unigram, ${cfg.vocabSize} pieces (spm.model); </s> = id 2 starts and ends a translation.
- Parameters: ${(parameters / 1e6).toFixed(2)} M; model.onnx + decoder.onnx ${(bytes / 2 ** 20).toFixed(1)} MiB, weights stored as ${weightsText(weights, int8)}.
- Training: checkpoint \`${basename(checkpoint)}\`${step ? `, step ${step}` : ""}${bleu ? `, dev BLEU ${bleu} (greedy)` : ""}.

## Inputs and outputs (opset 17)

- model.onnx: \`feats\` (B, T, ${cfg.inputDim}) float32 and \`lengths\` (B) int64 in; \`src_ids\` (B, T') (source CTC argmax), \`out_lengths\` (B), and per decoder layer i \`cross_k_i\`, \`cross_v_i\` (B, ${cfg.heads}, T', ${dh}) out.
- decoder.onnx: \`tokens\` (N, 1), \`position\` (1), \`parent\` (N) (the previous step's row each row continues), \`memory_lengths\` (N), \`cache_k_i\`, \`cache_v_i\` (N_prev, ${cfg.heads}, S, ${dh}) and \`cross_k_i\`, \`cross_v_i\` of each row's utterance in; \`log_probs\` (N, ${cfg.vocabSize}) and \`new_cache_k_i\`, \`new_cache_v_i\` (N, ${cfg.heads}, S+1, ${dh}) out.

## Use

\`\`\`
nast translate talk.mp3 -m <this directory> [--beam 5] -f all -o out/
\`\`\`

Word times come from the source CTC: a translation's words share the stretch in which it hears speech.
`;
}
