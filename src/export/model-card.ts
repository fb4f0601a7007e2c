// MODEL_CARD.md of an exported model package: a generated skeleton (what the model is, how it was
// made, how to run and evaluate it) that the person publishing the model completes.
import { basename } from "node:path";
import type { NastConfig } from "../model/config.ts";

export interface CardInput {
  cfg: NastConfig;
  checkpoint: string;
  metadata: Record<string, string>;
  parameters: number;
  bytes: number;
  /** What the exporter stored: weightsLabel() of ./exporter.ts. */
  weights: string;
}

function layers(list: number[]): string {
  return list.length === 0 ? "none" : list.join(", ");
}

const WEIGHTS_TEXT: Record<string, string> = {
  float32: "float32",
  float16: "float16 (cast to float32 at load)",
  "int8+float32": "int8 for the linear layers (dynamic quantization), float32 for the rest",
  "int8+float16": "int8 for the linear layers (dynamic quantization), float16 for the rest (cast to float32 at load)",
};

export function modelCard({ cfg, checkpoint, metadata, parameters, bytes, weights }: CardInput): string {
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
- Parameters: ${(parameters / 1e6).toFixed(2)} M; model.onnx ${(bytes / 2 ** 20).toFixed(1)} MiB, weights stored as ${WEIGHTS_TEXT[weights] ?? weights}.
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
