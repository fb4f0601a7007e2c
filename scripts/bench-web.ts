// The page's speed against the CLI's on this machine: model load time and real-time factor on
// models/default/example.wav, best of --runs (default 3) and the first (cold) run, the page in headless chromium (onnxruntime-web
// wasm, --threads threads, default 2) and the CLI's Translator in this process (onnxruntime-node, the
// same threads). Run: node --import tsx scripts/bench-web.ts [--threads N] [--runs N]. README.md and
// docs/web.md show its numbers.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadModelPackage } from "../src/formats/model-package.ts";
import { NastSession } from "../src/infer/session.ts";
import { Translator } from "../src/infer/translator.ts";
import { SileroVad } from "../src/infer/vad.ts";
import { buildWebPage } from "./web-bundle.mjs";
import { REPO_ROOT } from "../test/helpers/cli.ts";
import { openPage, startServe, translateOnPage } from "../test/helpers/web-page.ts";

const { values } = parseArgs({ options: { threads: { type: "string", default: "2" }, runs: { type: "string", default: "3" } } });
const threads = Number(values.threads);
const runs = Number(values.runs);
const example = join(REPO_ROOT, "models/default/example.wav");

/** Model load seconds, then the seconds of each translation of example.wav (the first one cold). */
interface Measured {
  load: number;
  times: number[];
  duration: number;
}

async function cli(): Promise<Measured> {
  const t0 = performance.now();
  const pkg = loadModelPackage(undefined);
  const session = await NastSession.create(pkg, { threads });
  const vad = await SileroVad.load();
  const load = (performance.now() - t0) / 1000;
  const translator = new Translator(pkg, session, { segmenter: vad, progress: false });
  const times: number[] = [];
  let duration = 0;
  for (let i = 0; i < runs; i++) {
    const t1 = performance.now();
    duration = (await translator.translateFile(example, pkg.dir)).duration;
    times.push((performance.now() - t1) / 1000);
  }
  await session.release();
  await vad.release();
  return { load, times, duration };
}

async function page(): Promise<Measured> {
  await buildWebPage(REPO_ROOT);
  const served = await startServe();
  const open = await openPage(served.origin, `?threads=${threads}`);
  try {
    const times: number[] = [];
    let duration = 0;
    for (let i = 0; i < runs; i++) {
      const run = await translateOnPage(open.page, example);
      if (run.state !== "done") throw new Error(`the page failed: ${run.error}`);
      times.push(run.seconds);
      duration = run.duration;
    }
    return { load: open.loadSeconds, times, duration };
  } finally {
    await open.browser.close();
    await served.stop();
  }
}

const rows = [
  [`page (onnxruntime-web wasm, ${threads} threads)`, await page()],
  [`CLI (onnxruntime-node, ${threads} threads)`, await cli()],
] as const;
process.stdout.write(`example.wav (${rows[0][1].duration.toFixed(1)} s), ${runs} runs; model load includes the Silero VAD (the page's: fetching both from the server)\n`);
for (const [name, r] of rows) {
  const best = Math.min(...r.times);
  const first = r.times[0]!;
  process.stdout.write(`${name.padEnd(42)}  load ${r.load.toFixed(2)} s  RTF ${(best / r.duration).toFixed(3)} best (${best.toFixed(2)} s), ${(first / r.duration).toFixed(3)} first run\n`);
}
