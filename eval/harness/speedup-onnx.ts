// The onnxruntime engine of `nast bench speedup` (./speedup.ts): the two exported packages, as `nast translate`
// runs them (src/infer/session.ts), greedy CTC decoding for CTC-NAST and the decoder's search for the AR model.
import { loadModelPackage } from "../../src/formats/model-package.ts";
import { isArConfig } from "../../src/model/config.ts";
import { greedyDecode } from "../../src/infer/ctc.ts";
import { NastSession, openSession, type SessionOptions } from "../../src/infer/session.ts";
import { OrtArRunner } from "../../src/infer/ar-runner.ts";
import { UsageError } from "../../src/util/errors.ts";
import type { SpeedupEngine } from "./speedup.ts";

export async function onnxEngine(nastDir: string, arDir: string, opts: SessionOptions): Promise<SpeedupEngine> {
  const nastPkg = loadModelPackage(nastDir);
  const arPkg = loadModelPackage(arDir);
  if (isArConfig(nastPkg.cfg)) throw new UsageError(`--nast ${nastDir}: is an autoregressive model; give the CTC-NAST package`);
  if (!isArConfig(arPkg.cfg)) throw new UsageError(`--ar ${arDir}: is a CTC-NAST model; give the autoregressive package (nast export of an "arch": "ar" checkpoint)`);
  const nast = await NastSession.create(nastPkg, opts);
  const ar = (await openSession(arPkg, opts)) as OrtArRunner;
  return {
    name: `onnxruntime (${opts.threads ?? "all"} threads)`,
    async nast(batch) {
      const out = await nast.run(batch);
      return batch.map((_, b) => greedyDecode(out.tgtIds.subarray(b * out.steps, (b + 1) * out.steps), undefined, out.outLengths[b]!).tokens.map((t) => t.id));
    },
    async ar(batch, beam) {
      return (await ar.search(batch, beam)).hypotheses.map((h) => h.tokens);
    },
    async arEncoder(batch) {
      await ar.encode(batch);
    },
    async release() {
      await nast.release();
      await ar.release();
    },
  };
}
