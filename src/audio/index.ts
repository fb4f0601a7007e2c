// The audio front-end's public API, what the rest of nast imports (docs/design.md §3.1): decode, resample,
// fbank, CMVN, SpecAugment, segmentation (.npy output is src/formats/npy.ts). None of it loads libtorch.
export { type DecodeOptions, type DecodedAudio, FEATURE_SAMPLE_RATE, decodeAudio, decodeAudioChunks } from "./decode.ts";
export { Resampler, resample } from "./resample.ts";
export { FBANK_DIM, type Fbank, fbank, fbankFrameCount } from "./fbank.ts";
export { utteranceCmvn } from "./cmvn.ts";
export { LD2_POLICY, type SpecAugmentPolicy, specAugment } from "./specaugment.ts";
export { type SegmentOptions, type SpeechSegment, segmentSpeech } from "./segment.ts";
