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

/** The header of a file whose data chunk holds `dataBytes` bytes. */
export function wavHeader(format: WavFormat, dataBytes: number): Buffer {
  const blockAlign = format.blockAlign ?? (format.channels * format.bits) / 8;
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVEfmt ", 8, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format.formatTag, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(format.bits, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
