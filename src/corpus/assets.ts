// The augmentation asset kit: real room impulse responses, recorded noise, music and non-English
// babble, collected from Debian packages into DIR/{rir,noise,music,babble}/ as 16 kHz mono WAV (impulse
// responses 32-bit float, the rest 16-bit) with DIR/manifest.tsv (file, kind, seconds, package,
// licence, copyright, origin). Each source's licence is read from the package's DEP-5 copyright file
// (/usr/share/doc/<package>/copyright); only packages of Debian main whose licences allow use for
// training (GPL-2+, LGPL-2.1+, CC-BY-3.0, CC-BY-SA-3.0) are taken. Clips are trimmed so that the kit
// stays near 15 MB, small enough to carry to the GPU host. Building needs ffmpeg (G.722, Ogg, MP3) and
// unzip (UFO:AI's sounds are in a .pk3 zip); using the kit needs neither.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { decodeAudio } from "../audio/decode.ts";
import { resample } from "../audio/resample.ts";
import { wavHeader } from "../audio/wav-header.ts";
import { InputError } from "../util/errors.ts";
import { type AssetCatalog, type AugmentAssets, onsetIndex } from "./augment.ts";
import { wavBytes } from "./effects.ts";
import { runProcessBytes } from "./process.ts";
import { Rng } from "./rng.ts";

export const RATE = 16000;
export type AssetKind = "rir" | "noise" | "music" | "babble";
export const assetKindList: readonly AssetKind[] = ["rir", "noise", "music", "babble"];

export interface ManifestRow {
  file: string;
  kind: AssetKind;
  seconds: number;
  package: string;
  licence: string;
  copyright: string;
  origin: string;
}

const MANIFEST_HEADER = ["file", "kind", "seconds", "package", "licence", "copyright", "origin"];

/** A kit on disk: its catalog (for drawing plans) and its audio (for applying them), read lazily. */
export class AssetKit implements AugmentAssets {
  readonly rows: readonly ManifestRow[];
  private readonly cache = new Map<string, Promise<Float32Array>>();

  constructor(readonly dir: string) {
    const path = join(dir, "manifest.tsv");
    if (!existsSync(path)) throw new InputError(dir, "has no manifest.tsv: make the kit with `nast corpus assets -o DIR`");
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0);
    if (lines[0] !== MANIFEST_HEADER.join("\t")) throw new InputError(path, `line 1: expected the header '${MANIFEST_HEADER.join("\\t")}'`);
    this.rows = lines.slice(1).map((line, i) => {
      const f = line.split("\t");
      const kind = f[1] as AssetKind;
      if (f.length !== MANIFEST_HEADER.length || !assetKindList.includes(kind) || !(Number(f[2]) > 0)) throw new InputError(path, `line ${i + 2}: malformed row`);
      if (!existsSync(join(dir, f[0]!))) throw new InputError(path, `line ${i + 2}: ${f[0]} is missing from the kit`);
      return { file: f[0]!, kind, seconds: Number(f[2]), package: f[3]!, licence: f[4]!, copyright: f[5]!, origin: f[6]! };
    });
  }

  get catalog(): AssetCatalog {
    const c: Record<string, { file: string; seconds: number }[]> = {};
    for (const r of this.rows) (c[r.kind] ??= []).push({ file: r.file, seconds: r.seconds });
    return c;
  }

  audio(file: string): Promise<Float32Array> {
    let p = this.cache.get(file);
    if (!p) {
      if (!this.rows.some((r) => r.file === file)) throw new Error(`${file} is not in the asset kit ${this.dir} (was the corpus planned with another kit?)`);
      p = decodeAudio(join(this.dir, file), { sampleRate: RATE }).then((d) => d.samples);
      this.cache.set(file, p);
    }
    return p;
  }
}

// ---- licences from DEP-5 copyright files ----

/** License and Copyright of the last paragraph of a DEP-5 copyright file whose Files patterns match `path`. */
export function dep5Licence(copyrightText: string, path: string): { licence: string; copyright: string } {
  let found = { licence: "", copyright: "" };
  for (const para of copyrightText.split(/\n\s*\n/)) {
    // Field values with their continuation lines, except License, whose continuation is the licence text.
    const fields = new Map<string, string>();
    let last = "";
    for (const line of para.split("\n")) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set((last = m[1]!.toLowerCase()), m[2]!);
      else if (last && last !== "license" && /^\s/.test(line)) fields.set(last, `${fields.get(last)} ${line.trim()}`);
    }
    const files = fields.get("files");
    if (!files) continue;
    const match = files.split(/\s+/).filter(Boolean).some((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(path));
    if (match) found = { licence: (fields.get("license") ?? "").trim(), copyright: (fields.get("copyright") ?? "").replace(/\s+/g, " ").trim() };
  }
  return found;
}

function packageLicence(pkg: string, sourcePath: string): { licence: string; copyright: string } {
  const path = `/usr/share/doc/${pkg}/copyright`;
  if (!existsSync(path)) throw new Error(`${pkg} is not installed (no ${path}): apt-get install ${pkg}`);
  const l = dep5Licence(readFileSync(path, "utf8"), sourcePath);
  if (!ALLOWED.includes(l.licence)) throw new Error(`${pkg} ${sourcePath}: licence '${l.licence}' is not one the kit takes (${ALLOWED.join(", ")})`);
  return l;
}

/** Licences under which a model trained on the material may be shipped (attribution in the manifest). */
const ALLOWED = ["GPL-2+", "GPL-2", "LGPL-2.1+", "CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-4.0", "CC0-1.0", "public-domain"];

// ---- the sources ----

interface Source {
  kind: AssetKind;
  pkg: string;
  /** Installed file, or `zip!member` for a member of a zip file. */
  path: string;
  /** The path the package's copyright file names (its source tree). */
  sourcePath: string;
  /** Channel to take (default: mix to mono). */
  channel?: number;
  name: string;
  /** Excerpts [start s, length s] (default: from 0, up to the kind's limit). */
  excerpts?: [number, number][];
}

const JCONV = "/usr/share/jconvolver/config-files/demo-reverbs";
const CSQT = "/usr/share/csoundqt/Examples/SourceMaterials";
const UFO = "/usr/share/games/ufoai/base/0snd.pk3";
const ASC = "/usr/share/games/asc/music";

/** Room, hall and street responses only: the guitar-cabinet and amplifier responses of these packages are left out. */
const RIRS: Source[] = [
  { kind: "rir", pkg: "jconvolver-config-files", path: `${JCONV}/street2-L.wav`, sourcePath: "config-files/demo-reverbs/street2-L.wav", name: "jconvolver-street-L" },
  { kind: "rir", pkg: "jconvolver-config-files", path: `${JCONV}/street2-R.wav`, sourcePath: "config-files/demo-reverbs/street2-R.wav", name: "jconvolver-street-R" },
  { kind: "rir", pkg: "guitarix-common", path: "/usr/share/gx_head/sounds/greathall.wav", sourcePath: "IR/greathall.wav", channel: 0, name: "guitarix-greathall-L" },
  { kind: "rir", pkg: "guitarix-common", path: "/usr/share/gx_head/sounds/greathall.wav", sourcePath: "IR/greathall.wav", channel: 1, name: "guitarix-greathall-R" },
  { kind: "rir", pkg: "csoundqt-examples", path: `${CSQT}/StairwellL.wav`, sourcePath: "src/Examples/SourceMaterials/StairwellL.wav", name: "csoundqt-stairwell-L" },
  { kind: "rir", pkg: "csoundqt-examples", path: `${CSQT}/StairwellR.wav`, sourcePath: "src/Examples/SourceMaterials/StairwellR.wav", name: "csoundqt-stairwell-R" },
  { kind: "rir", pkg: "csoundqt-examples", path: `${CSQT}/impulse_big_hall.wav`, sourcePath: "src/Examples/SourceMaterials/impulse_big_hall.wav", channel: 0, name: "csoundqt-big-hall-L" },
  { kind: "rir", pkg: "csoundqt-examples", path: `${CSQT}/impulse_big_hall.wav`, sourcePath: "src/Examples/SourceMaterials/impulse_big_hall.wav", channel: 1, name: "csoundqt-big-hall-R" },
];

/** UFO:AI's recorded ambiences (weather, fire, water, city, machines); its alien, creature, music and speech sounds are left out. */
const UFO_AMBIENCE = ["arcticwind", "city_abnd_ufoai_atm", "cricket_loop", "fire", "firesoft", "smallfire", "water01", "waterfontain", "thunder2",
  "wind_turbine", "steam", "hum", "machine1", "minepump03", "ufo_night_atm", "sand-city", "tv_static"];

const NOISES: Source[] = [
  ...UFO_AMBIENCE.map((n): Source => ({ kind: "noise", pkg: "ufoai-sound", path: `${UFO}!sound/ambience/${n}.ogg`, sourcePath: `base/sound/ambience/${n}.ogg`, name: `ufoai-${n}` })),
  { kind: "noise", pkg: "csoundqt-examples", path: `${CSQT}/Seashore.wav`, sourcePath: "src/Examples/SourceMaterials/Seashore.wav", name: "csoundqt-seashore" },
];

const MUSIC: Source[] = [
  ...["frontiers", "time_to_strike", "machine_wars"].map((n): Source => ({ kind: "music", pkg: "asc-music", path: `${ASC}/${n}.mp3`, sourcePath: `${n}.mp3`, name: `asc-${n}`, excerpts: [[60, 15], [150, 15]] })),
  { kind: "music", pkg: "csoundqt-examples", path: `${CSQT}/ClassicalGuitar.wav`, sourcePath: "src/Examples/SourceMaterials/ClassicalGuitar.wav", name: "csoundqt-classical-guitar" },
  { kind: "music", pkg: "csoundqt-examples", path: `${CSQT}/violins.wav`, sourcePath: "src/Examples/SourceMaterials/violins.wav", name: "csoundqt-violins" },
  { kind: "music", pkg: "csoundqt-examples", path: `${CSQT}/choir.wav`, sourcePath: "src/Examples/SourceMaterials/choir.wav", name: "csoundqt-choir" },
];

/** Asterisk's studio prompts in French, Italian and Russian (one voice each), for babble. */
const BABBLE_VOICES = [
  { pkg: "asterisk-core-sounds-fr-g722", dir: "/usr/share/asterisk/sounds/fr_CA_f_June", sourcePath: "fr-g722" },
  { pkg: "asterisk-core-sounds-it-g722", dir: "/usr/share/asterisk/sounds/it_IT_m_Carlo", sourcePath: "it-g722" },
  { pkg: "asterisk-core-sounds-ru-g722", dir: "/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU", sourcePath: "ru-g722" },
];

/** Longest clip per kind (s): the kit stays near 15 MB. */
const MAX_SECONDS: Record<AssetKind, number> = { rir: 1.5, noise: 9, music: 15, babble: 8 };
const BABBLE_CLIPS = 12;

// ---- decoding and shaping ----

async function decode(src: { path: string; channel?: number }, ffmpeg: string, format?: string): Promise<Float32Array> {
  let input: Buffer | null = null;
  let path = src.path;
  const bang = path.indexOf("!");
  if (bang >= 0) {
    input = await runProcessBytes("unzip", ["-p", path.slice(0, bang), path.slice(bang + 1)], "");
    path = "-";
  }
  const mono = src.channel === undefined ? ["-ac", "1"] : ["-af", `pan=mono|c0=c${src.channel}`];
  const args = ["-v", "error", "-nostdin", ...(format ? ["-f", format] : []), "-i", path === "-" ? "pipe:0" : path, ...mono, "-ar", String(RATE), "-f", "f32le", "pipe:1"];
  const bytes = await runProcessBytes(ffmpeg, args, input ?? "");
  const out = new Float32Array(bytes.length >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/**
 * An impulse response from 1 ms before its first arrival (augment.ts's onsetIndex: the first sample
 * within 20 dB of the peak) to where 60 dB of its energy has decayed (at most `maxSeconds`), peak 1.
 */
export function shapeImpulseResponse(h: Float32Array, maxSeconds = MAX_SECONDS.rir): Float32Array {
  let peak = 0;
  for (const v of h) peak = Math.max(peak, Math.abs(v));
  if (peak === 0) throw new Error("impulse response is silent");
  const start = Math.max(0, onsetIndex(h) - RATE / 1000);
  let total = 0;
  for (let i = start; i < h.length; i++) total += h[i]! * h[i]!;
  let end = h.length;
  for (let tail = 0; end > start + 1 && tail + h[end - 1]! * h[end - 1]! < total * 1e-6; end--) tail += h[end - 1]! * h[end - 1]!;
  end = Math.min(end, start + Math.round(maxSeconds * RATE));
  const out = h.slice(start, end);
  const fade = Math.min(160, out.length >> 2);
  for (let i = 0; i < fade; i++) out[out.length - 1 - i] = out[out.length - 1 - i]! * (i / fade);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / peak;
  return out;
}

/** Scales to a peak of `peak` (clips are mixed at an SNR later, so only the shape of the level matters). */
function normalisePeak(x: Float32Array, peak = 0.9): Float32Array {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  if (m > 0) for (let i = 0; i < x.length; i++) x[i] = (x[i]! * peak) / m;
  return x;
}

function floatWav(x: Float32Array): Buffer {
  const data = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return Buffer.concat([wavHeader({ formatTag: 3, channels: 1, sampleRate: RATE, bits: 32 }, data.length), data]);
}

/**
 * A babble clip: `talkers` streams of prompts (each one of the three voices, sped up or slowed down by
 * up to 10% by resampling so that the same voice gives several talkers), with 0.1-0.5 s gaps, at equal
 * level, summed.
 */
async function babbleClip(rng: Rng, prompts: { voice: number; path: string }[][], decodePrompt: (p: string) => Promise<Float32Array>): Promise<{ x: Float32Array; used: Set<number> }> {
  const length = MAX_SECONDS.babble * RATE;
  const talkers = rng.int(3, 6);
  const mix = new Float64Array(length);
  const used = new Set<number>();
  for (let t = 0; t < talkers; t++) {
    const voice = rng.int(0, prompts.length - 1);
    used.add(voice);
    const rate = 16000 + 250 * rng.int(-6, 6);
    const stream = new Float32Array(length);
    let pos = -Math.round(rng.uniform(0, 1.5) * RATE);
    while (pos < length) {
      const p = rng.pick(prompts[voice]!);
      const a = resample(await decodePrompt(p.path), rate, RATE);
      for (let i = 0; i < a.length; i++) if (pos + i >= 0 && pos + i < length) stream[pos + i] = a[i]!;
      pos += a.length + Math.round(rng.uniform(0.1, 0.5) * RATE);
    }
    let e = 0;
    for (const v of stream) e += v * v;
    const g = e > 0 ? 1 / Math.sqrt(e / length) : 0;
    for (let i = 0; i < length; i++) mix[i] = mix[i]! + g * stream[i]!;
  }
  return { x: normalisePeak(Float32Array.from(mix)), used };
}

export interface BuildOptions {
  outDir: string;
  /** A folder with manifest.tsv (path, duration, type, licence), e.g. Speech Commands' background noise. */
  extra?: string;
  ffmpeg?: string;
  seed?: number;
  log?: (msg: string) => void;
}

/** Makes the kit; returns its manifest rows and its size in bytes. */
export async function buildAssetKit(opts: BuildOptions): Promise<{ rows: ManifestRow[]; bytes: number; skipped: string[] }> {
  const ffmpeg = opts.ffmpeg ?? process.env.NAST_FFMPEG ?? "ffmpeg";
  const log = opts.log ?? (() => {});
  for (const k of assetKindList) {
    rmSync(join(opts.outDir, k), { recursive: true, force: true });
    mkdirSync(join(opts.outDir, k), { recursive: true });
  }
  // The kit is made from packages and may hold files that must not be committed (--extra): git ignores it whole.
  writeFileSync(join(opts.outDir, ".gitignore"), "*\n");
  const rows: ManifestRow[] = [];
  const skipped: string[] = [];
  let bytes = 0;
  const write = (kind: AssetKind, name: string, x: Float32Array, meta: Omit<ManifestRow, "file" | "kind" | "seconds">) => {
    const file = `${kind}/${name}.wav`;
    const data = kind === "rir" ? floatWav(x) : wavBytes(x, RATE);
    writeFileSync(join(opts.outDir, file), data);
    bytes += data.length;
    rows.push({ file, kind, seconds: Math.round((x.length / RATE) * 1000) / 1000, ...meta });
  };

  for (const s of [...RIRS, ...NOISES, ...MUSIC]) {
    const lic = packageLicence(s.pkg, s.sourcePath);
    const x = await decode(s, ffmpeg);
    const meta = { package: s.pkg, licence: lic.licence, copyright: lic.copyright, origin: s.path.replace("!", "/") + (s.channel !== undefined ? ` (channel ${s.channel + 1})` : "") };
    if (s.kind === "rir") {
      write("rir", s.name, shapeImpulseResponse(x), meta);
      continue;
    }
    const excerpts = s.excerpts ?? [[0, MAX_SECONDS[s.kind]]];
    excerpts.forEach(([at, len], i) => {
      const a = Math.min(Math.round(at * RATE), Math.max(0, x.length - Math.round(len * RATE)));
      const clip = x.slice(a, a + Math.round(Math.min(len, MAX_SECONDS[s.kind]) * RATE));
      write(s.kind, excerpts.length > 1 ? `${s.name}-${i + 1}` : s.name, normalisePeak(clip), meta);
    });
    log(`${s.kind}: ${s.name} (${s.pkg}, ${lic.licence})`);
  }

  // Babble: prompts of the three voices, decoded once each when first used.
  const prompts = BABBLE_VOICES.map((v, voice) => {
    if (!existsSync(v.dir)) throw new Error(`${v.dir} is missing: apt-get install ${v.pkg}`);
    return readdirSorted(v.dir).filter((f) => f.endsWith(".g722")).map((f) => ({ voice, path: join(v.dir, f) }));
  });
  const decoded = new Map<string, Float32Array>();
  const decodePrompt = async (p: string) => {
    let x = decoded.get(p);
    if (!x) decoded.set(p, (x = await decode({ path: p }, ffmpeg, "g722")));
    return x;
  };
  const lics = BABBLE_VOICES.map((v) => packageLicence(v.pkg, v.sourcePath));
  const rng = Rng.derive(opts.seed ?? 1, "babble");
  for (let c = 0; c < BABBLE_CLIPS; c++) {
    const { x, used } = await babbleClip(rng, prompts, decodePrompt);
    const vs = [...used].sort();
    write("babble", `babble-${String(c + 1).padStart(2, "0")}`, x, {
      package: vs.map((v) => BABBLE_VOICES[v]!.pkg).join(","),
      licence: vs.map((v) => lics[v]!.licence).join(","),
      copyright: vs.map((v) => lics[v]!.copyright).join("; "),
      origin: vs.map((v) => BABBLE_VOICES[v]!.dir).join(","),
    });
  }
  log(`babble: ${BABBLE_CLIPS} clips of 3-6 talkers from ${decoded.size} prompts`);

  if (opts.extra) {
    const r = await addExtra(opts.extra, ffmpeg, write);
    skipped.push(...r);
  }
  const lines = [MANIFEST_HEADER.join("\t"), ...rows.map((r) => [r.file, r.kind, r.seconds, r.package, r.licence, r.copyright, r.origin].join("\t"))];
  writeFileSync(join(opts.outDir, "manifest.tsv"), lines.join("\n") + "\n");
  return { rows, bytes, skipped };
}

function readdirSorted(dir: string): string[] {
  // readdirSync's order is the file system's; sorting makes the kit the same on every machine.
  return readdirSync(dir).sort();
}

/**
 * Files of another folder with a manifest.tsv (path, duration, type, licence): its noises and
 * impulse responses whose licence is stated (rows saying the provenance is undocumented are skipped).
 */
async function addExtra(dir: string, ffmpeg: string, write: (kind: AssetKind, name: string, x: Float32Array, meta: Omit<ManifestRow, "file" | "kind" | "seconds">) => void): Promise<string[]> {
  const path = join(dir, "manifest.tsv");
  if (!existsSync(path)) throw new InputError(dir, "has no manifest.tsv (path, duration, type, licence)");
  const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
  const skipped: string[] = [];
  for (const line of lines.slice(1)) {
    const [file, , type, licence] = line.split("\t");
    if (!file || !type || !licence) continue;
    if (/undocumented|not documented|unknown/i.test(licence) || (type !== "noise" && type !== "rir")) {
      skipped.push(`${file} (${licence})`);
      continue;
    }
    const x = await decode({ path: join(dir, file) }, ffmpeg);
    const name = `extra-${basename(file, ".wav").replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const meta = { package: "extra", licence: licence.replace(/\t/g, " "), copyright: "", origin: file };
    if (type === "rir") write("rir", name, shapeImpulseResponse(x), meta);
    else {
      // Two excerpts of a long recording, from its second and third fifths.
      const len = MAX_SECONDS.noise * RATE;
      const starts = x.length > 3 * len ? [Math.floor(x.length / 5), Math.floor((2 * x.length) / 5)] : [0];
      starts.forEach((a, i) => write("noise", starts.length > 1 ? `${name}-${i + 1}` : name, normalisePeak(x.slice(a, a + len)), meta));
    }
  }
  return skipped;
}
