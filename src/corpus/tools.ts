// Where the external programs are: the system's (Debian packages), or a private prefix of unpacked
// Debian packages (`dpkg -x` of each .deb into one folder) on a machine without them, e.g. the GPU host
// (docs/gpu.md §4). A prefix needs its library folders on LD_LIBRARY_PATH and its usr/bin on PATH
// (espeak-ng runs `mbrola` from PATH), and each engine's data folder, since all have /usr/... compiled
// in: espeak-ng --path (where it also finds the MBROLA databases, under espeak-ng-data/mbrola/),
// festival --libdir/--datadir, RHVoice's RHVOICE_DATA_PATH/RHVOICE_CONFIG_PATH, and for pico2wave a
// wrapper that recipes/synthetic/gpu-corpus.sh writes (its language folder is compiled in and it has
// no option for it).
import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

export interface Tools {
  espeak: string;
  /** espeak-ng --path (the folder holding espeak-ng-data), with a prefix only. */
  espeakPath?: string;
  festival: string;
  /** festival --libdir and --datadir, with a prefix only. */
  festivalLibdir?: string;
  flite: string;
  /** RHVoice's command-line synthesizer. */
  rhvoice: string;
  /** RHVoice's data folder (languages/, voices/): where engines.ts checks that a voice is installed, since RHVoice-test silently speaks another voice when it is not. */
  rhvoiceData: string;
  pico: string;
  sox: string;
  apertium: string;
  /** Codecs for the codec augmentation (optional: only that needs them). */
  lame?: string;
  opusenc?: string;
  opusdec?: string;
  env: NodeJS.ProcessEnv;
}

export function systemTools(): Tools {
  return {
    espeak: "espeak-ng",
    festival: "festival",
    flite: "flite",
    rhvoice: "RHVoice-test",
    rhvoiceData: "/usr/share/RHVoice",
    pico: "pico2wave",
    sox: "sox",
    apertium: "apertium",
    lame: "lame",
    opusenc: "opusenc",
    opusdec: "opusdec",
    env: process.env,
  };
}

/** Tools from a prefix made by recipes/synthetic/gpu-corpus.sh (`dpkg -x` of the packages). */
export function prefixTools(prefixArg: string): Tools {
  // Absolute: the pico2wave wrapper finds its data relative to its own path.
  const prefix = resolve(prefixArg);
  if (!existsSync(join(prefix, "usr/bin"))) {
    throw new Error(`--tools ${prefixArg}: no usr/bin inside; build the prefix with recipes/synthetic/gpu-corpus.sh prefix`);
  }
  const libDirs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/pulseaudio", "usr/lib"]
    .map((d) => join(prefix, d))
    .filter((d) => existsSync(d));
  const ld = [...libDirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  const bin = (name: string) => join(prefix, "usr/bin", name);
  const rhvoiceData = join(prefix, "usr/share/RHVoice");
  return {
    espeak: bin("espeak-ng"),
    espeakPath: join(prefix, "usr/lib/x86_64-linux-gnu"),
    festival: bin("festival"),
    festivalLibdir: join(prefix, "usr/share/festival"),
    flite: bin("flite"),
    rhvoice: bin("RHVoice-test"),
    rhvoiceData,
    pico: bin("pico2wave"),
    sox: bin("sox"),
    apertium: bin("apertium"),
    lame: bin("lame"),
    opusenc: bin("opusenc"),
    opusdec: bin("opusdec"),
    env: {
      ...process.env,
      LD_LIBRARY_PATH: ld,
      PATH: [join(prefix, "usr/bin"), process.env.PATH].filter(Boolean).join(delimiter),
      // RHVoice's engine reads these in place of its compiled-in /usr/share/RHVoice and /etc/RHVoice
      // (RHVoice's src/core/engine.cpp, engine::init_params).
      RHVOICE_DATA_PATH: rhvoiceData,
      RHVOICE_CONFIG_PATH: join(prefix, "etc/RHVoice"),
    },
  };
}
