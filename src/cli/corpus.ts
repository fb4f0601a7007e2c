// `nast corpus synth` and `nast corpus text`: a synthetic speech-translation corpus in MuST-C layout
// (recipes/synthetic/README.md). `text` makes only the sentence list and translations (a TSV), so that
// speech can be synthesized on another machine from it: `synth --tsv FILE --tools PREFIX`.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { UsageError, errorMessage } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import { Progress } from "../util/progress.ts";
import { type CorpusEntry, apertiumModes, readCorpusTsv, selectSentences, translateSelection, writeCorpusTsv } from "../corpus/corpus-text.ts";
import { type SentencePool, debianPools, userTextPool } from "../corpus/text-sources.ts";
import { planTalks } from "../corpus/talks.ts";
import { synthesizeCorpus } from "../corpus/synth.ts";
import { prefixTools, systemTools } from "../corpus/tools.ts";
import { enginePackages, engines, parseEngines } from "../corpus/voices.ts";
import { parseFlags, stringFlags } from "./args.ts";
import { runSpeech } from "./corpus-speech.ts";
import { runAsterisk } from "../corpus/asterisk.ts";
import { runAssets } from "./corpus-assets.ts";
import { AssetKit } from "../corpus/assets.ts";
import { augmentGroups, parseAugmentKinds } from "../corpus/augment.ts";

const usage = `usage:
  nast corpus synth -o DIR [options]      speech-translation corpus in MuST-C layout: DIR/<pair>/data/<split>/{wav,txt}
  nast corpus text -o FILE.tsv [options]  only the sentences and their translations (id, split, en, es), no speech
  nast corpus speech --from DIR -o OUT    real recordings (folders with manifest.tsv) in MuST-C layout (--help)
  nast corpus asterisk -o DIR             real-speech test set from Debian's Asterisk prompts: tst-AST, tst-AST-HUMAN (--help)
  nast corpus assets -o DIR               acoustic augmentation kit (room responses, noise, music, babble) from Debian packages (--help)

options (both):
  --pair P              language pair (default en-es; translated by apertium ${Object.values(apertiumModes).join(", ")})
  --hours H             hours of speech in train+dev+tst-COMMON (default 0.05); train sentences are
                        spoken again by other speakers when the text runs out
  --sentences N         use N distinct sentences instead of sizing by --hours (text: the TSV's size)
  --seed S              random seed (default 1): same seed and options, same corpus
  --text FILE           English text (UTF-8, sentences or paragraphs per line) instead of the Debian
                        packages fortunes and wordnet-base
  --jobs N              parallel processes (default: the number of cores)
synth only:
  --tsv FILE            sentences and translations from \`nast corpus text\` (no apertium needed)
  --engines LIST        TTS engines (default ${engines.join(",")}): espeak (espeak-ng), festival
                        (kal, ked, slt), flite; mbrola (us1, us2, us3, en1, through espeak-ng),
                        rhvoice (alan, bdl, clb, slt), pico (en-US, en-GB), festvox (festival's rab
                        and don). dev and tst-COMMON are spoken by espeak, festival and flite only
                        (those in LIST), exactly as before the others existed: mbrola, rhvoice, pico
                        and festvox speak training talks only (and tst-HELDOUT if held out).
                        Debian packages (mbrola, festvox-rablpc16k, festvox-don: contrib; the mbrola
                        voices, rhvoice, pico: non-free; scripts/apt-components.sh adds both):
${Object.entries(enginePackages).map(([e, p]) => `                          ${e}: ${p}`).join("\n")}
  --holdout-engine LIST engines kept out of train/dev/tst-COMMON; they speak tst-COMMON's sentences in
                        the extra split tst-HELDOUT (default: none)
  --augment LIST        augmentation of train talks (dev and test sets never are): all (default), none,
                        or kinds and groups, comma-separated (probabilities: src/corpus/talks.ts):
${Object.entries(augmentGroups).filter(([g]) => g !== "all" && g !== "none").map(([g, k]) => `                          ${g} = ${k.join(",")}`).join("\n")}
  --aug-assets DIR      the kit of \`nast corpus assets\` for the rir, noise, music and babble kinds;
                        without it they fall back to simulated rooms and coloured noise
  --no-augment          the same as --augment none
  --tools PREFIX        run the engines and sox from a prefix of unpacked Debian packages
                        (recipes/synthetic/gpu-corpus.sh)
  --splits A,B          make only these splits (each identical to the same split of a full run)
  --skip-failed         write the text files even when talks failed, leaving those talks out
  --shard K/N           make only every N-th talk from the K-th (0-based), no text files: N
                        concurrent processes share the work on many cores; then run once without
                        --shard to write the text files
`;

/** The flags of `corpus synth` and `corpus text`. */
function parseSynthFlags(args: string[]) {
  return parseFlags({
    args,
    options: {
      output: { type: "string", short: "o" },
      pair: { type: "string", default: "en-es" },
      ...stringFlags("hours", "sentences", "text", "tsv", "jobs", "aug-assets", "tools", "shard", "splits"),
      seed: { type: "string", default: "1" },
      engines: { type: "string", default: engines.join(",") },
      "holdout-engine": { type: "string", default: "" },
      "no-augment": { type: "boolean", default: false },
      augment: { type: "string", default: "all" },
      "skip-failed": { type: "boolean", default: false },
    },
  }, usage);
}
type SynthValues = NonNullable<ReturnType<typeof parseSynthFlags>>["values"];

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    process.stdout.write(usage);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "speech") return runSpeech(rest);
  if (sub === "asterisk") return runAsterisk(rest);
  if (sub === "assets") return runAssets(rest);
  if (sub !== "synth" && sub !== "text") throw new UsageError(`corpus: unknown subcommand '${sub}'\n${usage}`);
  const parsed = parseSynthFlags(rest);
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.output) throw new UsageError(`corpus ${sub}: -o is required\n${usage}`);
  const num = (flag: string, v: string | undefined, integer: boolean, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) {
      throw new UsageError(`corpus ${sub}: --${flag} must be ${integer ? "an integer" : "a number"} >= ${min}, got '${v}'`);
    }
    return x;
  };
  const seed = num("seed", values.seed, true, 0)!;
  const jobs = num("jobs", values.jobs, true, 1) ?? availableParallelism();
  const sentences = num("sentences", values.sentences, true, 10);
  const hours = num("hours", values.hours, false, 0.001) ?? (sentences === undefined ? 0.05 : undefined);
  if (apertiumModes[values.pair] === undefined && !values.tsv) {
    throw new UsageError(`corpus ${sub}: --pair ${values.pair} is not supported (supported: ${Object.keys(apertiumModes).join(", ")})`);
  }
  if (sub === "text" && values.tsv) throw new UsageError("corpus text: --tsv is for synth");
  const tty = Boolean(process.stderr.isTTY);
  const say = (msg: string) => process.stderr.write(`${msg}\n`);

  let entries: CorpusEntry[];
  let pair = values.pair;
  if (values.tsv) {
    ({ pair, entries } = readCorpusTsv(values.tsv));
  } else {
    const t0 = performance.now();
    const pools: SentencePool[] = values.text ? [userTextPool(values.text)] : debianPools();
    const chosen = selectSentences(pools, { seed, hours, count: sentences });
    const bar = new Progress({ total: chosen.length, label: "apertium", enabled: tty });
    let last = 0;
    entries = await translateSelection(chosen, {
      pair,
      jobs,
      onProgress: (done) => {
        bar.tick(done - last);
        last = done;
      },
    });
    bar.finish();
    const secs = (performance.now() - t0) / 1000;
    say(`text: ${entries.length} sentences from ${pools.map((p) => `${p.source} (${p.sentences.length})`).join(", ")}; translated in ${secs.toFixed(1)} s`);
  }
  if (sub === "text") {
    writeCorpusTsv(values.output, pair, entries);
    say(`wrote ${values.output}`);
    return 0;
  }

  return synthesize(values, entries, { output: values.output, pair, seed, hours, jobs, tty, say });
}

/** `corpus synth`'s second half: the talks planned from the sentences, spoken, augmented and written. */
async function synthesize(
  values: SynthValues,
  entries: CorpusEntry[],
  { output, pair, seed, hours, jobs, tty, say }: { output: string; pair: string; seed: number; hours: number | undefined; jobs: number; tty: boolean; say: (msg: string) => void },
): Promise<number> {
  const engineList = parseEngines(values.engines, "--engines");
  const holdout = parseEngines(values["holdout-engine"], "--holdout-engine");
  for (const h of holdout) if (!engineList.includes(h)) engineList.push(h);
  const tools = values.tools ? prefixTools(values.tools) : systemTools();
  let shard: { index: number; count: number } | undefined;
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`corpus synth: --shard must be K/N with 0 <= K < N, got '${values.shard}'`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  let kinds: ReturnType<typeof parseAugmentKinds>;
  try {
    kinds = parseAugmentKinds(values["no-augment"] ? "none" : values.augment);
  } catch (err) {
    throw new UsageError(`corpus synth: ${errorMessage(err)}`);
  }
  const kit = values["aug-assets"] ? new AssetKit(values["aug-assets"]) : null;
  const planned = planTalks(entries, {
    seed, hours: values.tsv || values.hours ? hours : undefined, engines: engineList, holdout, augment: kinds.length > 0, kinds, catalog: kit?.catalog,
  });
  // Each talk's voice and augmentation derive from (seed, split, index) alone, so a subset of splits is
  // byte-identical to the same splits of a full run: test sets made on the GPU host can be remade here.
  const only = values.splits?.split(",").map((s) => s.trim()).filter(Boolean);
  const talks = only ? planned.filter((t) => only.includes(t.split)) : planned;
  if (only && talks.length === 0) throw new UsageError(`corpus synth: --splits ${values.splits} selects no talk (splits: ${[...new Set(planned.map((t) => t.split))].join(", ")})`);
  mkdirSync(join(output, pair), { recursive: true });
  const logger = new JsonLogger(join(output, pair, "synth.log"));
  logger.log("start", { seed, pair, hours, engines: engineList, holdout, talks: talks.length, jobs });
  const summary = await synthesizeCorpus(talks, { outDir: output, pair, jobs, tools, seed, logger, progress: tty, shard, assets: kit, skipFailed: values["skip-failed"] });
  logger.log("end", { ...summary });
  for (const f of summary.failed) say(`error: ${f.talk}: ${f.error}`);
  if (summary.failed.length > 0 && !(values["skip-failed"] && !shard)) {
    say(`${summary.failed.length} of ${summary.talks} talks failed (the others are kept); fix the cause and run the same command again to finish`);
    return 1;
  }
  if (summary.failed.length > 0) say(`--skip-failed: the text files leave out the ${summary.failed.length} failed talks above`);
  for (const [s, sec] of Object.entries(summary.seconds)) say(`  ${s}: ${summary.segments[s]} segments, ${(sec / 3600).toFixed(3)} h`);
  const made = summary.madeSeconds;
  say(
    `synthesized ${(made / 3600).toFixed(3)} h of speech in ${summary.made} talks in ${summary.wallSeconds.toFixed(1)} s` +
      `${summary.resumed ? ` (${summary.resumed} talks were already done)` : ""}: ` +
      `${(made / 3600 / (summary.wallSeconds / 60)).toFixed(3)} h/min, ${(made / summary.wallSeconds).toFixed(0)}x real time, ${jobs} jobs` +
      (shard ? `; shard ${shard.index}/${shard.count}: run without --shard to write the text files when all shards are done` : ""),
  );
  return 0;
}
