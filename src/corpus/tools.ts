// Where the external programs are: the system's (Debian packages), or a private prefix of unpacked
// Debian packages (`dpkg -x` of each .deb into one folder) on a machine without them, e.g. the GPU host
// (../shared/GPU.md). A prefix needs its library folders on LD_LIBRARY_PATH, espeak-ng's data folder
// (--path) and festival's library folder (--libdir, --datadir), since both have /usr/... compiled in.
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface Tools {
  espeak: string;
  /** espeak-ng --path (the folder holding espeak-ng-data), with a prefix only. */
  espeakPath?: string;
  festival: string;
  /** festival --libdir and --datadir, with a prefix only. */
  festivalLibdir?: string;
  flite: string;
  sox: string;
  apertium: string;
  env: NodeJS.ProcessEnv;
}

export function systemTools(): Tools {
  return { espeak: "espeak-ng", festival: "festival", flite: "flite", sox: "sox", apertium: "apertium", env: process.env };
}

/** Tools from a prefix made by recipes/synthetic/gpu-corpus.sh (`dpkg -x` of the packages). */
export function prefixTools(prefix: string): Tools {
  if (!existsSync(join(prefix, "usr/bin"))) {
    throw new Error(`--tools ${prefix}: no usr/bin inside; build the prefix with recipes/synthetic/gpu-corpus.sh prefix`);
  }
  const libDirs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/pulseaudio", "usr/lib"]
    .map((d) => join(prefix, d))
    .filter((d) => existsSync(d));
  const ld = [...libDirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  const bin = (name: string) => join(prefix, "usr/bin", name);
  return {
    espeak: bin("espeak-ng"),
    espeakPath: join(prefix, "usr/lib/x86_64-linux-gnu"),
    festival: bin("festival"),
    festivalLibdir: join(prefix, "usr/share/festival"),
    flite: bin("flite"),
    sox: bin("sox"),
    apertium: bin("apertium"),
    env: { ...process.env, LD_LIBRARY_PATH: ld },
  };
}
