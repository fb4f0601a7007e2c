// Worker thread of `nast prep`: one task = one talk. Decodes the talk's audio once (src/audio),
// cuts every segment at fairseq's sample positions, computes the Kaldi fbank and writes the talk's
// shard. Errors come back as messages naming the wav, so the other talks go on.
import { parentPort } from "node:worker_threads";
import { decodeAudio } from "../audio/decode.ts";
import { fbank } from "../audio/fbank.ts";
import { errorMessage } from "../util/errors.ts";
import { FEATURE_DIM, type FeatureDtype } from "./feature-store.ts";
import { encodeHalf } from "../formats/float16.ts";
import { MUSTC_SAMPLE_RATE, segmentSamples } from "./mustc.ts";
import { ShardWriter } from "./shards.ts";
import { WORKER_READY } from "./worker-pool.ts";

export interface TalkTask {
  talk: string;
  wav: string;
  /** Where the talk is referenced, for error messages (e.g. ".../train.yaml:17"). */
  where: string;
  segments: { id: string; startSample: number; numSamples: number }[];
  shardDir: string;
  dtype: FeatureDtype;
}

export type TalkResult =
  | { talk: string; ok: true; utterances: number; frames: number; audioSeconds: number; truncated: number }
  | { talk: string; ok: false; error: string };

export async function prepareTalk(task: TalkTask): Promise<TalkResult> {
  let writer: ShardWriter | undefined;
  try {
    const audio = await decodeAudio(task.wav, { sampleRate: MUSTC_SAMPLE_RATE });
    writer = new ShardWriter(task.shardDir, task.talk, task.dtype);
    let frames = 0;
    let audioSeconds = 0;
    let truncated = 0;
    for (const seg of task.segments) {
      const samples = segmentSamples(audio.samples, seg);
      if (samples.length < seg.numSamples) truncated++;
      const feats = fbank(samples, MUSTC_SAMPLE_RATE);
      let bytes: Uint8Array;
      if (task.dtype === "float16") {
        const half = new Uint16Array(feats.frames * FEATURE_DIM);
        encodeHalf(feats.data, half);
        bytes = new Uint8Array(half.buffer);
      } else bytes = new Uint8Array(feats.data.buffer, feats.data.byteOffset, feats.frames * FEATURE_DIM * 4);
      writer.add({ id: seg.id, frames: feats.frames, samples: samples.length, requestedSamples: seg.numSamples }, bytes);
      frames += feats.frames;
      audioSeconds += samples.length / MUSTC_SAMPLE_RATE;
    }
    writer.finish();
    return { talk: task.talk, ok: true, utterances: task.segments.length, frames, audioSeconds, truncated };
  } catch (err) {
    writer?.abort();
    return { talk: task.talk, ok: false, error: `${errorMessage(err)} (talk ${task.talk}, first segment at ${task.where})` };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on("message", (task: TalkTask) => {
    void prepareTalk(task).then((result) => port.postMessage(result));
  });
  port.postMessage(WORKER_READY);
}
