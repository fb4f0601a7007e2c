// Utterance-level cepstral mean and variance normalisation, as fairseq's UtteranceCMVN
// (fairseq/data/audio/feature_transforms/utterance_cmvn.py of facebookresearch/fairseq; docs/model.md
// §2.1): per dimension, subtract the mean over frames and divide by
// std = sqrt(max(E[x²] − mean², 1e-10)). Accumulated in float64; in place.

const VAR_FLOOR = 1e-10;

/** Normalises row-major [frames, dim] features in place and returns the same array. */
export function utteranceCmvn(data: Float32Array, frames: number, dim: number): Float32Array {
  if (frames === 0) return data;
  if (data.length < frames * dim) throw new RangeError(`utteranceCmvn: ${data.length} values for ${frames}×${dim}`);
  const sum = new Float64Array(dim);
  const sumSq = new Float64Array(dim);
  for (let f = 0; f < frames; f++) {
    const row = f * dim;
    for (let d = 0; d < dim; d++) {
      const v = data[row + d]!;
      sum[d] += v;
      sumSq[d] += v * v;
    }
  }
  const mean = new Float64Array(dim);
  const invStd = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    const m = sum[d]! / frames;
    mean[d] = m;
    invStd[d] = 1 / Math.sqrt(Math.max(sumSq[d]! / frames - m * m, VAR_FLOOR));
  }
  for (let f = 0; f < frames; f++) {
    const row = f * dim;
    for (let d = 0; d < dim; d++) data[row + d] = (data[row + d]! - mean[d]!) * invStd[d]!;
  }
  return data;
}
