// Where `nast translate` writes, and what happens when it cannot: one stdout line per input (empty for a
// failed one), a directory's audio and video files as its inputs, output files that exist kept unless --force, symbolic links never written through nor
// replaced, an -o that cannot take files refused before the model is even loaded, no temporary file
// left behind by a failed write, and stdout errors (a full disk, a reader that went away) without a
// stack trace.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthTalk, tinyModelPackage, SENTENCES_EN, type TinyModel } from "./fixtures.ts";
import { REPO_ROOT, nastArgv, runNast as nast, testEnv } from "../helpers/cli.ts";

let work = "";
let model: TinyModel;
let talk = "";

before(async () => {
  work = mkdtempSync(join(tmpdir(), "nast-translate-out-"));
  model = tinyModelPackage(join(work, "tiny"));
  talk = (await synthTalk(join(work, "talk"), SENTENCES_EN.slice(0, 2), 0.6)).path;
});

after(() => rmSync(work, { recursive: true, force: true }));

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const noStack = (stderr: string): void => assert.ok(!/\n\s+at .*:\d+:\d+/.test(stderr) && !/node:internal/.test(stderr), `a stack trace:\n${stderr}`);

test("txt on stdout: exactly one line per input, in order, an empty one for a failed input; --help says so", () => {
  const missing = join(work, "missing.wav");
  const r = nast(["translate", talk, missing, talk, "-m", model.dir, "--threads", "1"]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n");
  assert.equal(lines.length, 4, `three lines and the final newline: ${JSON.stringify(r.stdout)}`);
  assert.equal(lines[1], "", "the failed input's line is empty");
  assert.equal(lines[0], lines[2], "the same input twice gives the same line");
  assert.match(r.stderr, new RegExp(`nast translate: ${esc(missing)}: no such file`));
  assert.match(r.stderr, /1 of 3 inputs failed/);
  const help = nast(["translate", "--help"]);
  assert.match(help.stdout.replace(/\s+/g, " "), /txt prints exactly one line per input, in the order given: its whole translation, or an empty line for an input that failed/);
});

test("a directory stands for the audio and video files directly in it, in name order; one without any fails, naming it", () => {
  const dir = join(work, "talks");
  mkdirSync(join(dir, "sub"), { recursive: true });
  writeFileSync(join(dir, "b.wav"), readFileSync(talk));
  const mp3 = spawnSync("ffmpeg", ["-loglevel", "error", "-y", "-i", talk, join(dir, "a.mp3")]);
  assert.equal(mp3.status, 0, mp3.stderr?.toString());
  writeFileSync(join(dir, "notes.txt"), "not audio\n");
  writeFileSync(join(dir, ".hidden.wav"), readFileSync(talk));
  writeFileSync(join(dir, "sub", "c.wav"), readFileSync(talk));
  const empty = join(work, "no-talks");
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, "notes.txt"), "not audio\n");

  const alone = nast(["translate", talk, "-m", model.dir, "--threads", "1"]);
  assert.equal(alone.code, 0, alone.stderr);
  // The next input's first pass runs while this one is translated: the results are those of one at a time.
  const r = nast(["translate", dir, empty, talk, "-m", model.dir, "--threads", "1"]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n");
  assert.equal(lines.length, 5, `a.mp3, b.wav, the empty directory, talk, and the final newline: ${JSON.stringify(r.stdout)}`);
  assert.equal(lines[1], alone.stdout.trimEnd(), "b.wav (a copy of talk) as talk alone");
  assert.equal(lines[3], alone.stdout.trimEnd(), "talk as alone");
  assert.equal(lines[2], "", "the directory without audio gets an empty line");
  assert.match(r.stderr, new RegExp(`nast translate: ${esc(empty)}: is a directory with no audio or video files directly in it`));
  assert.match(r.stderr, /1 of 4 inputs failed/);

  const out = join(work, "dir-out");
  const files = nast(["translate", dir, "-m", model.dir, "--threads", "1", "-f", "json", "-o", out]);
  assert.equal(files.code, 0, files.stderr);
  assert.deepEqual(readdirSync(out).sort(), ["a.json", "b.json"]);
  assert.equal((JSON.parse(readFileSync(join(out, "b.json"), "utf8")) as { file: string }).file, join(dir, "b.wav"));

  const none = nast(["translate", empty, "-m", model.dir]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, "\n", "one empty line for the one input");
  assert.match(none.stderr, /1 of 1 inputs failed/);
});

test("an output that exists is kept without --force (that input fails, naming the file) and replaced with it", () => {
  const out = join(work, "out-exists");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "talk.txt"), "keep me\n");
  const r = nast(["translate", talk, "-m", model.dir, "-o", out, "-f", "txt,json", "--threads", "1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`nast translate: ${esc(talk)}: ${esc(join(out, "talk.txt"))}: already exists; kept as it is \\(--force replaces it\\)`));
  assert.equal(readFileSync(join(out, "talk.txt"), "utf8"), "keep me\n");
  assert.deepEqual(readdirSync(out), ["talk.txt"], "nothing else written for that input, no temporary file");

  const f = nast(["translate", talk, "-m", model.dir, "-o", out, "-f", "txt,json", "--force", "--threads", "1"]);
  assert.equal(f.code, 0, f.stderr);
  assert.notEqual(readFileSync(join(out, "talk.txt"), "utf8"), "keep me\n");
  assert.equal(JSON.parse(readFileSync(join(out, "talk.json"), "utf8")).file, talk);
  assert.deepEqual(readdirSync(out).sort(), ["talk.json", "talk.txt"]);
});

test("a symbolic link is never written through nor replaced, even with --force", () => {
  const out = join(work, "out-link");
  mkdirSync(out, { recursive: true });
  const victim = join(work, "victim.json");
  writeFileSync(victim, "precious\n");
  symlinkSync(victim, join(out, "talk.json"));
  symlinkSync(join(work, "nowhere.txt"), join(out, "talk.txt"));
  for (const extra of [[], ["--force"]]) {
    const r = nast(["translate", talk, "-m", model.dir, "-o", out, "-f", "json,txt", "--threads", "1", ...extra]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${esc(join(out, "talk.json"))}: is a symbolic link; nast translate neither writes through nor replaces one`));
    assert.match(r.stderr, new RegExp(`${esc(join(out, "talk.txt"))}: is a symbolic link`));
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    assert.ok(lstatSync(join(out, "talk.json")).isSymbolicLink());
    assert.equal(readlinkSync(join(out, "talk.json")), victim);
    assert.ok(!existsSync(join(work, "nowhere.txt")), "a dangling link is not followed either");
    assert.deepEqual(readdirSync(out).sort(), ["talk.json", "talk.txt"]);
  }
});

/** A directory this process cannot create files in, whoever it runs as (root ignores permission bits). */
function unwritableDir(): string {
  const dir = join(work, "read-only");
  mkdirSync(dir, { recursive: true });
  spawnSync("chmod", ["555", dir]);
  for (const candidate of [dir, "/sys", "/proc/self"]) {
    try {
      const probe = join(candidate, `.probe-${process.pid}`);
      closeSync(openSync(probe, "wx"));
      unlinkSync(probe);
    } catch {
      return candidate;
    }
  }
  throw new Error("no directory that refuses new files");
}

test("an -o that cannot take files fails at once, before the model is loaded and before any input is read", () => {
  const notDir = join(work, "a-file");
  writeFileSync(notDir, "x");
  const readOnly = unwritableDir();
  for (const [out, why] of [
    [notDir, "is not a directory"],
    [join(notDir, "sub"), "is not a directory"],
    [readOnly, "cannot create files in it \\(.*\\((EACCES|EROFS|EPERM|ENOENT)\\)\\)"],
  ] as const) {
    // The model does not exist and the input is not audio: either would be reported if it were looked at.
    const r = nast(["translate", notDir, "-m", join(work, "no-such-model"), "-o", out, "-f", "all"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^nast: -o ${esc(out)}: ${why}\\n$`));
    assert.doesNotMatch(r.stderr, /no such model|not a RIFF|ffmpeg/);
    assert.equal(r.stdout, "");
  }
});

test("a directory where an output file should go: that input fails naming the file, no temporary file is left", () => {
  const out = join(work, "out-dir-target");
  mkdirSync(join(out, "talk.json"), { recursive: true });
  const r = nast(["translate", talk, "-m", model.dir, "-o", out, "-f", "json,srt", "--force", "--threads", "1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${esc(join(out, "talk.json"))}: is a directory`));
  assert.deepEqual(readdirSync(out), ["talk.json"]);
  noStack(r.stderr);
});

test("stdout on a full disk: one line on stderr, exit 1, no stack trace", () => {
  const full = openSync("/dev/full", "w");
  try {
    for (const format of ["txt", "json", "srt"]) {
      const r = spawnSync(process.execPath, nastArgv(["translate", talk, talk, "-m", model.dir, "-f", format, "--threads", "1"]), {
        cwd: REPO_ROOT,
        env: testEnv(),
        stdio: ["ignore", full, "pipe"],
        encoding: "utf8",
      });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, "nast translate: cannot write to standard output: no space left on device (ENOSPC)\n");
    }
  } finally {
    closeSync(full);
  }
});

test("stdout closed by its reader (EPIPE): a quiet exit, no stack trace", async () => {
  const child = spawn(process.execPath, nastArgv(["translate", talk, talk, talk, "-m", model.dir, "-f", "json", "--threads", "1"]), {
    cwd: REPO_ROOT,
    env: testEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (t: string) => (stderr += t));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
});
