// WAV reading: our own RIFF walk validates the header against the bytes actually present (lying,
// truncated and absurd sizes are refused before anything is allocated), then the data chunk is
// decoded block by block through `wavefile`, which holds the codecs (8-bit unsigned, 16/24/32-bit
// signed, 32/64-bit float, A-law, µ-law); 16-bit PCM, the common case, is read directly (same values). Each block is handed to wavefile behind a canonical
// (non-extensible) header because wavefile 11 decodes WAVE_FORMAT_EXTENSIBLE float data as integers.
import wavefile from "wavefile";
import { InputError } from "../util/errors.ts";
import { wavHeader } from "./wav-header.ts";

export type WavCodec = "pcm" | "float" | "alaw" | "mulaw";

export interface WavInfo {
  codec: WavCodec;
  /** Container bits per sample (8, 16, 24, 32 or 64). */
  bits: number;
  channels: number;
  sampleRate: number;
  /** Bytes per frame (all channels of one instant). */
  blockAlign: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of whole frames in the data chunk that are present in the input. */
  dataBytes: number;
  frames: number;
}

/** Random access to the bytes of a file or buffer. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Data-chunk sizes that writers put in the header when they cannot seek back (pipes): sox and
 * espeak-ng write 0x7ffff000, ffmpeg 0xffffffff, some recorders 0. They mean "until the end". */
const STREAMING_SIZES = new Set([0, 0x7ffff000, 0xffffffff]);
/** Rates outside this range are corrupt headers, not audio (0 Hz, 1 Hz, 4 GHz). */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 1_536_000;
const MAX_CHANNELS = 256;
const FORMAT_NAMES: Record<number, WavCodec> = { 1: "pcm", 3: "float", 6: "alaw", 7: "mulaw" };
/** WAVE_FORMAT_EXTENSIBLE: the real format code is the first two bytes of the SubFormat GUID. */
const FORMAT_EXTENSIBLE = 0xfffe;

/** Thrown for WAV files that are well-formed but use a codec we leave to ffmpeg (ADPCM, GSM ...). */
export class UnsupportedWavCodec extends Error {
  constructor(readonly formatTag: number) {
    super(`WAV format tag 0x${formatTag.toString(16)} is not PCM, float, A-law or µ-law`);
  }
}

export function isWavSignature(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const riff = String.fromCharCode(...head.subarray(0, 4));
  const wave = String.fromCharCode(...head.subarray(8, 12));
  return (riff === "RIFF" || riff === "RF64") && wave === "WAVE";
}

function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/** Walks the chunks of a RIFF/RF64 WAVE file and validates what will be decoded. */
export async function readWavInfo(source: ByteSource, name: string): Promise<WavInfo> {
  const fail = (msg: string): never => {
    throw new InputError(name, msg);
  };
  const head = await source.read(0, 12);
  if (!isWavSignature(head)) fail("not a RIFF/WAVE file");
  const rf64 = fourcc(head, 0) === "RF64";
  let ds64DataSize: number | null = null;
  let fmt: Uint8Array | null = null;
  let pos = 12;
  for (;;) {
    if (pos + 8 > source.size) {
      fail(fmt === null ? "no 'fmt ' chunk before the end of the file (truncated or not a WAV)" : "no 'data' chunk before the end of the file (truncated WAV)");
    }
    const chunkHead = await source.read(pos, 8);
    const id = fourcc(chunkHead, 0);
    const size = new DataView(chunkHead.buffer, chunkHead.byteOffset, 8).getUint32(4, true);
    const bodyStart = pos + 8;
    if (id === "data") {
      if (fmt === null) fail("'data' chunk comes before the 'fmt ' chunk");
      const info = parseFmt(fmt!, name);
      const available = source.size - bodyStart;
      let declared = size;
      if (rf64 && size === 0xffffffff && ds64DataSize !== null) declared = ds64DataSize;
      let bytes: number;
      if (declared <= available) bytes = declared;
      else if (STREAMING_SIZES.has(declared)) bytes = available; // unknown length: read to the end
      else {
        return fail(
          `header declares ${declared} bytes of audio but only ${available} follow (truncated or corrupt header); ` +
            "re-encode it, e.g. `ffmpeg -i IN -c:a pcm_s16le OUT.wav`",
        );
      }
      const frames = Math.floor(bytes / info.blockAlign);
      return { ...info, dataOffset: bodyStart, dataBytes: frames * info.blockAlign, frames };
    }
    if (size > source.size - bodyStart) {
      fail(`chunk '${printable(id)}' at byte ${pos} declares ${size} bytes, past the end of the file (truncated or corrupt header)`);
    }
    if (id === "fmt ") {
      if (size < 16) fail(`'fmt ' chunk is ${size} bytes, needs at least 16`);
      fmt = await source.read(bodyStart, Math.min(size, 64));
    } else if (id === "ds64" && size >= 16) {
      const ds = await source.read(bodyStart, 16);
      const view = new DataView(ds.buffer, ds.byteOffset, 16);
      ds64DataSize = view.getUint32(8, true) + view.getUint32(12, true) * 2 ** 32;
    }
    pos = bodyStart + size + (size & 1); // chunks are word-aligned
  }
}

function printable(id: string): string {
  return /^[\x20-\x7e]{4}$/.test(id) ? id : JSON.stringify(id);
}

function parseFmt(fmt: Uint8Array, name: string): Omit<WavInfo, "dataOffset" | "dataBytes" | "frames"> {
  const view = new DataView(fmt.buffer, fmt.byteOffset, fmt.length);
  let tag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRate = view.getUint32(4, true);
  const bits = view.getUint16(14, true);
  if (tag === FORMAT_EXTENSIBLE && fmt.length >= 26) tag = view.getUint16(24, true);
  const codec = FORMAT_NAMES[tag];
  if (codec === undefined) throw new UnsupportedWavCodec(tag);
  const fail = (msg: string): never => {
    throw new InputError(name, msg);
  };
  if (channels < 1 || channels > MAX_CHANNELS) fail(`header declares ${channels} channels (corrupt header)`);
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    fail(`header declares a sample rate of ${sampleRate} Hz, outside ${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz (corrupt header)`);
  }
  const validBits: Record<WavCodec, number[]> = { pcm: [8, 16, 24, 32], float: [32, 64], alaw: [8], mulaw: [8] };
  if (!validBits[codec].includes(bits)) fail(`${bits}-bit ${codec} samples are not supported (expected ${validBits[codec].join("/")}-bit)`);
  // The declared blockAlign is sometimes wrong in the wild; the frame size follows from the format.
  return { codec, bits, channels, sampleRate, blockAlign: (channels * bits) / 8 };
}

/** wavefile's bit-depth code for our codecs. */
function bitDepthCode(info: WavInfo): string {
  if (info.codec === "float") return info.bits === 32 ? "32f" : "64";
  if (info.codec === "alaw") return "8a";
  if (info.codec === "mulaw") return "8m";
  return String(info.bits);
}

const FORMAT_TAGS: Record<WavCodec, number> = { pcm: 1, float: 3, alaw: 6, mulaw: 7 };

/** A 44-byte canonical header followed by `data`, which wavefile reads without surprises. */
function canonicalWav(info: WavInfo, data: Uint8Array): Uint8Array {
  const { channels, sampleRate, bits, blockAlign } = info;
  const out = new Uint8Array(44 + data.length);
  out.set(wavHeader({ formatTag: FORMAT_TAGS[info.codec], channels, sampleRate, bits, blockAlign }, data.length));
  out.set(data, 44);
  return out;
}

/** Frames per block decoded at once: bounds the temporary memory to a few MB whatever the file. */
const BLOCK_FRAMES = 1 << 16;

/**
 * Yields the samples of the data chunk mixed to mono (channel average), scaled to [-1, 1], at the
 * file's own rate, in blocks. Throws an InputError on NaN or infinite samples (a corrupt float file:
 * silently zeroing them would hide the damage, and the features downstream would be garbage).
 */
export async function* wavMonoBlocks(source: ByteSource, info: WavInfo, name: string): AsyncGenerator<Float32Array> {
  const { channels } = info;
  // Integer codecs are scaled by 2^(bits−1); wavefile returns 8-bit PCM unsigned (offset 128), and
  // A-law/µ-law as 16-bit after fromALaw/fromMuLaw.
  const intBits = info.codec === "alaw" || info.codec === "mulaw" ? 16 : info.bits;
  const scale = info.codec === "float" ? 1 : 1 / 2 ** (intBits - 1);
  const offset = info.codec === "pcm" && info.bits === 8 ? 128 : 0;
  const depth = bitDepthCode(info);
  for (let first = 0; first < info.frames; first += BLOCK_FRAMES) {
    const count = Math.min(BLOCK_FRAMES, info.frames - first);
    const bytes = await source.read(info.dataOffset + first * info.blockAlign, count * info.blockAlign);
    if (info.codec === "pcm" && info.bits === 16) {
      yield pcm16Mono(bytes, count, channels);
      continue;
    }
    const wav = new wavefile.WaveFile();
    wav.fromBuffer(canonicalWav(info, bytes));
    if (depth === "8a") wav.fromALaw();
    else if (depth === "8m") wav.fromMuLaw();
    const interleaved = wav.getSamples(true, Float64Array) as unknown as Float64Array;
    const mono = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c]! - offset;
      const v = (sum / channels) * scale;
      if (!Number.isFinite(v)) {
        throw new InputError(name, `sample ${first + i} (at ${((first + i) / info.sampleRate).toFixed(3)} s) is ${v} — corrupt float data`);
      }
      mono[i] = v;
    }
    yield mono;
  }
}

/** Whether this machine stores an Int16Array's elements little-endian, as WAV does. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * 16-bit PCM, by far the most common WAV, read directly (little-endian signed integers, as wavefile
 * reads them) and mixed as above: the same values, several times faster than through wavefile.
 */
function pcm16Mono(bytes: Uint8Array, count: number, channels: number): Float32Array {
  const scale = 1 / 2 ** 15;
  const mono = new Float32Array(count);
  if (channels === 1 && bytes.byteOffset % 2 === 0 && LITTLE_ENDIAN) {
    // Mono samples read in place (the same values as the general loop: sum / 1 is sum).
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) mono[i] = pcm[i]! * scale;
    return mono;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += view.getInt16(2 * (i * channels + c), true);
    mono[i] = (sum / channels) * scale;
  }
  return mono;
}
