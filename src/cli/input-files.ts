// The inputs of `nast translate`: each argument is a file (any format ffmpeg reads), "-" (stdin), or a
// directory, which stands for the audio and video files directly inside it, in name order. Which files a
// directory holds is told by their extensions (a folder of talks also holds notes, subtitles, pictures),
// from ffmpeg's common demuxers; a file of another name is still translated when named on its own.
import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { InputError } from "../util/errors.ts";

export const MEDIA_EXTENSIONS: readonly string[] = [
  "3gp", "aac", "ac3", "aif", "aifc", "aiff", "amr", "ape", "au", "avi", "caf", "dts", "eac3", "flac", "flv", "gsm",
  "m2ts", "m4a", "m4b", "m4v", "mka", "mkv", "mov", "mp2", "mp3", "mp4", "mpc", "mpeg", "mpg", "mts", "oga", "ogg",
  "ogv", "opus", "ra", "snd", "spx", "ts", "voc", "w64", "wav", "weba", "webm", "wma", "wmv", "wv",
];

export interface Inputs {
  /** What to translate, in order: the arguments with each directory replaced by its media files. */
  inputs: string[];
  /** Inputs that fail before any work (a directory without media files), by index into `inputs`. */
  failed: Map<number, unknown>;
}

const isMedia = (name: string): boolean => MEDIA_EXTENSIONS.includes(extname(name).slice(1).toLowerCase());

export function expandInputs(args: readonly string[]): Inputs {
  const inputs: string[] = [];
  const failed = new Map<number, unknown>();
  for (const arg of args) {
    let dir = false;
    try {
      dir = arg !== "-" && statSync(arg).isDirectory();
    } catch {
      // Not there or unreadable: the input's own turn says so (src/audio/decode.ts).
    }
    if (!dir) {
      inputs.push(arg);
      continue;
    }
    let names: string[];
    try {
      // isFile follows a symbolic link to what it names; a dangling one or a loop is no file.
      names = readdirSync(arg)
        .filter((name) => !name.startsWith(".") && isMedia(name) && isFile(join(arg, name)))
        .sort();
    } catch (err) {
      failed.set(inputs.push(arg) - 1, new InputError(arg, `cannot list the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`));
      continue;
    }
    if (names.length === 0) {
      failed.set(
        inputs.push(arg) - 1,
        new InputError(arg, `is a directory with no audio or video files directly in it (by extension: .wav, .mp3, .flac, .opus, .mp4, ...); name the files, or the directory that holds them`),
      );
      continue;
    }
    for (const name of names) inputs.push(join(arg, name));
  }
  return { inputs, failed };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
