// `nast corpus speech`: real recorded speech (folders of clips with manifest.tsv) as a MuST-C-layout
// corpus to train beside the synthetic one (src/corpus/speech.ts).
import { availableParallelism } from "node:os";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { planSpeechTalks, readSpeechTsv, realDevSplit, realUnseenSplit, speechText, withUnseenSplit, writeSpeechCorpus, writeSpeechTsv, type SpeechClip } from "../corpus/speech.ts";
import { prefixTools, systemTools } from "../corpus/tools.ts";
import { parseAugmentKinds } from "../corpus/augment.ts";
import { AssetKit } from "../corpus/assets.ts";
import { intFlag, parseFlags, stringFlags } from "./args.ts";

export const speechUsage = `usage: nast corpus speech --from DIR -o OUT [options]

Real recordings as a corpus in MuST-C layout, OUT/<pair>/data/{train,${realDevSplit},${realUnseenSplit}}: DIR
holds one folder per source, each with manifest.tsv (file, seconds, speaker, transcript) and its Opus
clips. Transcripts are cleaned (sentence case, final punctuation) and translated by apertium; whole
speakers of every source with 5 or more speakers (5%, at least one) are held out as ${realDevSplit}, and
those of their clips whose sentence no train clip says are also ${realUnseenSplit}. One
speaker's consecutive clips make a talk; train talks are written --copies times, each copy after the
first with its own drawn augmentation. Talk names start with real_, so OUT can be prepared together
with a synthetic corpus: nast prep --mustc SYNTH --mustc OUT ...

options:
  --from DIR        the folder of sources (required)
  -o, --output OUT  output folder (required unless --text-only)
  --tsv FILE        the cleaned, split and translated transcripts: read when it exists (no apertium
                    needed), else made and written there
  --text-only       only write --tsv (apertium runs here; the audio can then be made elsewhere)
  --copies K        times each train talk is written (default 3; the first as recorded)
  --copies-of LIST  other counts for some sources, SOURCE=K,... (e.g. ljspeech_fixtures=8: a few
                    minutes of one kind of voice weighed up against hours of another)
  --augment LIST    what the other copies get, as nast corpus synth's --augment (default all)
  --aug-assets DIR  the kit of \`nast corpus assets\` (real rooms, noise, music, babble); without it
                    simulated rooms and coloured noise stand in
  --pair P          language pair (default en-es)
  --seed S          random seed (default 1)
  --tools PREFIX    opusdec from a prefix of unpacked Debian packages (recipes/synthetic/gpu-corpus.sh)
  --jobs N          parallel talks (default: the number of cores)
  --shard K/N       make only every N-th talk from the K-th (0-based) and no text files, so that N
                    processes share the work on many cores; then run once without it
`;

export async function runSpeech(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    options: {
      ...stringFlags("from", "tsv", "copies", "copies-of", "aug-assets", "seed", "tools", "jobs", "shard"),
      output: { type: "string", short: "o" },
      "text-only": { type: "boolean", default: false },
      augment: { type: "string", default: "all" },
      pair: { type: "string", default: "en-es" },
    },
    allowPositionals: false,
    strict: true,
  }, speechUsage);
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.from) throw new UsageError(`corpus speech: --from DIR is required\n\n${speechUsage}`);
  if (values["text-only"] && !values.tsv) throw new UsageError("corpus speech: --text-only writes --tsv FILE: give it");
  if (!values["text-only"] && !values.output) throw new UsageError(`corpus speech: -o OUT is required\n\n${speechUsage}`);
  const seed = intFlag(values.seed, "--seed", 0) ?? 1;
  const copies = intFlag(values.copies, "--copies", 1) ?? 3;
  const jobs = intFlag(values.jobs, "--jobs", 1) ?? availableParallelism();
  const say = (msg: string) => process.stderr.write(`${msg}\n`);
  const tty = Boolean(process.stderr.isTTY);

  let clips: SpeechClip[];
  if (values.tsv && existsSync(values.tsv) && !values["text-only"]) {
    clips = readSpeechTsv(values.tsv);
  } else {
    const t0 = performance.now();
    let bar: Progress | undefined;
    let last = 0;
    clips = await speechText(values.from, {
      seed,
      jobs,
      pair: values.pair,
      onBatch: (done, total) => {
        bar ??= new Progress({ total, label: "apertium", enabled: tty });
        bar.tick(done - last);
        last = done;
      },
    });
    bar?.finish();
    say(`speech text: ${clips.length} clips, ${new Set(clips.map((c) => c.en)).size} distinct transcripts translated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (values.tsv) {
      writeSpeechTsv(values.tsv, clips);
      say(`wrote ${values.tsv}`);
    }
    if (values["text-only"]) return 0;
  }
  const out = values.output!;
  clips = withUnseenSplit(clips);
  for (const split of new Set(clips.map((c) => c.split))) {
    const part = clips.filter((c) => c.split === split);
    say(`  ${split}: ${part.length} clips, ${(part.reduce((s, c) => s + c.seconds, 0) / 3600).toFixed(2)} h, ${new Set(part.map((c) => `${c.corpus}/${c.speaker}`)).size} speakers`);
  }
  const copiesOf = parseCopiesOf(values["copies-of"], new Set(clips.map((c) => c.corpus)));
  const talks = planSpeechTalks(clips, { seed, copies, copiesOf });
  mkdirSync(join(out, values.pair), { recursive: true });
  const logger = new JsonLogger(join(out, values.pair, "speech.log"));
  logger.log("start", { from: values.from, seed, copies, copiesOf: Object.fromEntries(copiesOf), talks: talks.length, jobs, augment: values.augment, assets: values["aug-assets"] ?? null });
  let shard: { index: number; count: number } | undefined;
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`corpus speech: --shard must be K/N with 0 <= K < N, got '${values.shard}'`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  const tools = values.tools ? prefixTools(values.tools) : systemTools();
  const augment = { kinds: parseAugmentKinds(values.augment), kit: values["aug-assets"] ? new AssetKit(values["aug-assets"]) : null, seed };
  const t0 = performance.now();
  const summary = await writeSpeechCorpus(talks, { root: values.from, outDir: out, pair: values.pair, jobs, tools, augment, logger, progress: tty, ...(shard ? { shard } : {}) });
  logger.log("end", { ...summary });
  for (const f of summary.failed) say(`error: ${f.talk}: ${f.error}`);
  if (summary.failed.length > 0) {
    say(`${summary.failed.length} of ${summary.talks} talks failed (the others are kept); fix the cause and run the same command again to finish`);
    return 1;
  }
  for (const [s, sec] of Object.entries(summary.seconds)) say(`  ${s}: ${summary.segments[s]} segments, ${(sec / 3600).toFixed(2)} h written`);
  say(`speech corpus: ${summary.made} talks made, ${summary.resumed} already there, in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${join(out, values.pair)}${shard ? ` (shard ${shard.index}/${shard.count}: run without --shard to write the text files)` : ""}`);
  return 0;
}

/** `--copies-of SOURCE=K,...`: every SOURCE must be a source folder of the TSV (a misspelt one would weigh nothing). */
export function parseCopiesOf(value: string | undefined, sources: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  if (value === undefined) return out;
  for (const item of value.split(",")) {
    const m = /^([^=]+)=(.*)$/.exec(item.trim());
    if (!m) throw new UsageError(`corpus speech: --copies-of needs SOURCE=K items separated by commas, got '${item}'`);
    const source = m[1]!;
    if (!sources.has(source)) throw new UsageError(`corpus speech: --copies-of names '${source}', which is not a source here (sources: ${[...sources].sort().join(", ")})`);
    out.set(source, intFlag(m[2], `--copies-of ${source}`, 1)!);
  }
  return out;
}
