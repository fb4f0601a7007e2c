// 16-bit PCM WAV is read without wavefile (src/audio/wav.ts, pcm16Mono): for mono, stereo and three
// channels, extremes included, the samples are exactly those of wavefile's decoding mixed the same way.
import { test } from "node:test";
import assert from "node:assert/strict";
import wavefile from "wavefile";
import { decodeAudio } from "../../src/audio/decode.ts";
import { wavHeader } from "../../src/audio/wav-header.ts";
import { Rng } from "../../src/util/rng.ts";

test("16-bit PCM: exactly wavefile's samples, mixed to mono", async () => {
  const rng = new Rng(4);
  for (const channels of [1, 2, 3]) {
    const frames = 70000 + channels; // more than one block of 65536 frames
    const pcm = Int16Array.from({ length: frames * channels }, () => Math.round(rng.uniform() * 65535) - 32768);
    pcm.set([-32768, 32767, -32768, 32767, 0, -1], 0);
    const bytes = Buffer.concat([wavHeader({ formatTag: 1, channels, sampleRate: 16000, bits: 16 }, pcm.byteLength), Buffer.from(pcm.buffer)]);
    const interleaved = new wavefile.WaveFile(bytes).getSamples(true, Float64Array) as unknown as Float64Array;
    const expected = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c]!;
      expected[i] = (sum / channels) * (1 / 2 ** 15);
    }
    // From memory (the data at an odd offset in the buffer, too) and from a file.
    const odd = Buffer.alloc(bytes.length + 1);
    bytes.copy(odd, 1);
    assert.deepEqual((await decodeAudio(bytes)).samples, expected, `${channels} channels`);
    assert.deepEqual((await decodeAudio(odd.subarray(1))).samples, expected, `${channels} channels, unaligned`);
  }
});
