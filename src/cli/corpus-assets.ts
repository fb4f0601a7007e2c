// `nast corpus assets -o DIR`: the augmentation asset kit (src/corpus/assets.ts) from Debian packages.
import { parseFlags } from "./args.ts";
import { UsageError } from "../util/errors.ts";
import { buildAssetKit } from "../corpus/assets.ts";

export const assetsUsage = `usage: nast corpus assets -o DIR [--extra DIR] [--seed S]

Collects the acoustic augmentation kit for \`nast corpus synth --aug-assets DIR\` from Debian packages:
DIR/{rir,noise,music,babble}/*.wav (16 kHz mono) and DIR/manifest.tsv (file, kind, seconds, package,
licence, copyright, origin; the licence and copyright from /usr/share/doc/<package>/copyright).
  rir     room, hall, stairwell and street impulse responses: jconvolver-config-files, guitarix-common,
          csoundqt-examples (guitar-cabinet responses are left out); trimmed, peak 1, 32-bit float
  noise   recorded ambiences: ufoai-sound (wind, fire, water, city, machines), csoundqt-examples (sea)
  music   asc-music (excerpts), csoundqt-examples (guitar, violins, choir)
  babble  12 clips of 3-6 talkers from Asterisk's French, Italian and Russian prompts
          (asterisk-core-sounds-fr-g722, -it-g722, -ru-g722)
Needs ffmpeg and unzip to build (not to use). About 15 MB. DIR gets a .gitignore: the kit is not to
be committed.

options:
  --extra DIR   also take the noises and impulse responses of DIR/manifest.tsv (path, duration, type,
                licence) whose licence is stated (e.g. Speech Commands' background noise, CC BY 4.0)
  --seed S      seed of the babble mixtures (default 1)
`;

export async function runAssets(argv: string[]): Promise<number> {
  const parsed = parseFlags({ args: argv, options: { output: { type: "string", short: "o" }, extra: { type: "string" }, seed: { type: "string", default: "1" } } }, assetsUsage);
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.output) throw new UsageError(`corpus assets: -o is required\n${assetsUsage}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`corpus assets: --seed must be an integer >= 0, got '${values.seed}'`);
  const t0 = performance.now();
  const say = (m: string) => process.stderr.write(`${m}\n`);
  const { rows, bytes, skipped } = await buildAssetKit({ outDir: values.output, extra: values.extra, seed, log: say });
  for (const s of skipped) say(`extra: skipped ${s}`);
  const by = (k: string) => rows.filter((r) => r.kind === k);
  const secs = (k: string) => by(k).reduce((s, r) => s + r.seconds, 0).toFixed(1);
  say(
    `wrote ${values.output}: ${["rir", "noise", "music", "babble"].map((k) => `${by(k).length} ${k} (${secs(k)} s)`).join(", ")}; ` +
      `${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return 0;
}
