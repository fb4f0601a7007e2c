// The canonical 44-byte WAV header (RIFF, "fmt " chunk of 16 bytes, "data" chunk; Microsoft's RIFF WAVE
// specification), written by everything that produces WAV files: the decoder's re-wrap of validated chunks
// (wav.ts), the synthetic corpus, the benchmark recordings and the tests' fixtures.

/** Format tag 1 = integer PCM, 3 = IEEE float, 6 = A-law, 7 = µ-law. */
export interface WavFormat {
  formatTag: number;
  channels: number;
  sampleRate: number;
  /** Bits per sample of one channel. */
  bits: number;
  /** Bytes per frame; default channels × bits / 8. */
  blockAlign?: number;
}

export const PCM16_MONO = (sampleRate: number): WavFormat => ({ formatTag: 1, channels: 1, sampleRate, bits: 16 });

/** The header of a file whose data chunk holds `dataBytes` bytes (no Buffer: the browser page decodes WAV too). */
export function wavHeader(format: WavFormat, dataBytes: number): Uint8Array {
  const blockAlign = format.blockAlign ?? (format.channels * format.bits) / 8;
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const ascii = (text: string, at: number): void => {
    for (let i = 0; i < text.length; i++) h[at + i] = text.charCodeAt(i);
  };
  ascii("RIFF", 0);
  v.setUint32(4, 36 + dataBytes, true);
  ascii("WAVEfmt ", 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, format.formatTag, true);
  v.setUint16(22, format.channels, true);
  v.setUint32(24, format.sampleRate, true);
  v.setUint32(28, format.sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, format.bits, true);
  ascii("data", 36);
  v.setUint32(40, dataBytes, true);
  return h;
}
