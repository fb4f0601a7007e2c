// The VAD stage of `nast translate` alone: Silero VAD loaded as translate loads it (the session cache of
// $XDG_CACHE_HOME, src/infer/session-cache.ts) and run over a WAV in the blocks translate decodes it in (decoded
// beforehand, so only the segmenter is timed), in this fresh process. Run it in two trees, alternating, to
// compare them: node --import tsx scripts/bench-vad.ts FILE.wav. README.md ("Silero VAD in runs of windows")
// shows its numbers.
import { decodeAudioChunks } from "../src/audio/decode.ts";
import { AudioMeter } from "../src/audio/segment.ts";
import { defaultCacheDir } from "../src/infer/session-cache.ts";
import { SileroVad } from "../src/infer/vad.ts";

const file = process.argv[2];
if (file === undefined) throw new Error("usage: node --import tsx scripts/bench-vad.ts FILE.wav");
const blocks: Float32Array[] = [];
for await (const b of decodeAudioChunks(file)) blocks.push(b);
const meter = new AudioMeter(16000);
for (const b of blocks) meter.push(b);
const stats = meter.finish();
const t0 = performance.now();
const vad = await SileroVad.load(undefined, defaultCacheDir());
const t1 = performance.now();
const stream = vad.open(stats, { maxSeconds: 20 });
let segments = 0;
for (const b of blocks) segments += (await stream.push(b)).length;
segments += (await stream.finish()).length;
const t2 = performance.now();
await vad.release();
process.stdout.write(`${file}: load ${(t1 - t0).toFixed(1)} ms (onnxruntime-node's import included), segmenting ${(t2 - t1).toFixed(1)} ms, ${segments} segments\n`);
