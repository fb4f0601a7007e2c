// The talks a run trains on (`nast train --train-talks FILE`): one talk id per line, as DATA_DIR/train names
// its talks (a MuST-C yaml's wav without .wav: ted_12, real_40_c0). Blank lines and what follows a "#" are
// ignored. The digest of the ids (sorted, so order and comments do not count) goes into every checkpoint, so
// that a resume that would read another list is refused instead of training on other data unnoticed.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { InputError } from "../util/errors.ts";

export interface TalkList {
  path: string;
  ids: Set<string>;
  sha256: string;
}

export function readTalkList(path: string): TalkList {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === "ENOENT" ? "no such file (--train-talks takes a file of talk ids, one per line)" : `cannot be read (${code ?? String(err)})`);
  }
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const id = line.replace(/#.*/, "").trim();
    if (id === "") return;
    if (/\s/.test(id)) throw new InputError(`${path}:${i + 1}`, `"${id}" is not one talk id (one per line, without spaces)`);
    ids.add(id);
  });
  if (ids.size === 0) throw new InputError(path, "lists no talk (one talk id per line, e.g. ted_12)");
  const sha256 = createHash("sha256").update([...ids].sort().join("\n")).digest("hex");
  return { path, ids, sha256 };
}

/**
 * The utterances of `talks` (one talk id per utterance) that `list` keeps. Every listed id must be a talk of
 * the split: a misspelt or stale list would otherwise train on less than it says.
 */
export function selectTalks(list: TalkList, talks: readonly string[], split: string): Set<number> {
  const present = new Set(talks);
  const missing = [...list.ids].filter((id) => !present.has(id));
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).join(", ") + (missing.length > 3 ? `, ... (${missing.length} in all)` : "");
    throw new InputError(list.path, `lists talks that ${split} does not have: ${shown}; the ids are its talks' names, e.g. ${talks[0] ?? "ted_1"}`);
  }
  const out = new Set<number>();
  talks.forEach((t, i) => {
    if (list.ids.has(t)) out.add(i);
  });
  return out;
}
