// `nast corpus asterisk` against the installed Debian packages asterisk-core-sounds-en-g722,
// asterisk-core-sounds-en and asterisk-core-sounds-es: transcript cleaning on their real lines, a small
// run read back by the MuST-C reader with every segment's audio compared sample for sample with its
// recording decoded here, a byte-identical rerun, and a recording that fails to decode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  asteriskPackages,
  buildAsteriskCorpus,
  cleanPromptText,
  englishSentence,
  exactInYaml,
  locateSources,
  planAsteriskTalks,
  readTranscriptFile,
  spanishSentence,
} from "../../src/corpus/asterisk.ts";
import { translateAll } from "../../src/corpus/translate.ts";
import { readMustcSplit } from "../../src/data/mustc.ts";
import { nast, readWav16 } from "./helpers.ts";

const work = mkdtempSync(join(tmpdir(), "nast-asterisk-test-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const sources = await locateSources();
const en = readTranscriptFile(sources.enTranscript);
const es = readTranscriptFile(sources.esTranscript);
const text = (raw: string) => {
  const c = cleanPromptText(raw);
  return "text" in c ? c.text : `SKIP ${c.skip}`;
};

test("the packages' recordings and transcripts are found and parsed", () => {
  assert.equal(sources.recordings.size, 568);
  assert.match(sources.recordings.get("digits/1")!, /\/sounds\/en_US_f_Allison\/digits\/1\.g722$/);
  assert.match(sources.enTranscript, /\/asterisk-core-sounds-en\/core-sounds-en\.txt\.gz$/);
  assert.equal(en.entries.size, 569);
  assert.deepEqual(en.malformed, []);
  assert.deepEqual(en.entries.get("vm-intro"), {
    name: "vm-intro",
    raw: "Please leave your message after the tone.  When done hang up or press the pound key. (simple tone sound plays)",
    line: 486,
  });
  // The Spanish file names digits/0 twice ("cero", then "diez"): the first one counts.
  assert.equal(es.entries.get("digits/0")!.raw, "cero");
  assert.deepEqual(es.duplicates, [{ name: "digits/0", raw: "diez", line: 121 }]);
});

test("transcripts are cleaned to what is spoken, English as the synthetic corpus writes sentences", () => {
  const enOf = (name: string) => {
    const c = cleanPromptText(en.entries.get(name)!.raw);
    return "text" in c ? englishSentence(c.text) : `SKIP ${c.skip}`;
  };
  const esOf = (name: string) => {
    const c = cleanPromptText(es.entries.get(name)!.raw);
    return "text" in c ? spanishSentence(c.text) : `SKIP ${c.skip}`;
  };
  assert.equal(enOf("vm-intro"), "Please leave your message after the tone. When done hang up or press the pound key.");
  assert.equal(enOf("letters/at"), "At.");
  assert.equal(enOf("letters/space"), "Space.");
  assert.equal(enOf("spy-iax2"), "IAX.");
  assert.equal(enOf("spy-misdn"), "M I S D N.");
  assert.equal(enOf("confbridge-has-joined"), "Has joined the conference.");
  assert.equal(enOf("dir-multi2"), "For.");
  assert.equal(enOf("priv-callpending"), "I have a caller waiting, who introduces themselves as.");
  assert.equal(enOf("vm-dialout"), "Please wait while I connect your call.");
  assert.equal(enOf("demo-thanks"), "Goodbye. Thank you for trying out the Asterisk Open Source PBX.");
  assert.equal(enOf("digits/1"), "One.");
  assert.equal(enOf("beep"), "SKIP annotation only");
  assert.equal(enOf("confbridge-join"), "SKIP annotation only");
  assert.equal(enOf("silence/1"), "SKIP annotation only");
  assert.equal(esOf("vm-tempgreetactive"), "Sus saludos temporales estan actualmente en uso.");
  assert.equal(esOf("confbridge-inc-list-vol-out"), "Para incrementar el volumen del audio de otros participantes.");
  assert.equal(esOf("confbridge-has-joined"), "Ha ingresado a la conferencia.");
  assert.equal(esOf("vm-savefolder"), "En que carpeta desea guardar el mensaje?");
  assert.equal(esOf("auth-thankyou"), "Gracias.");
  assert.equal(esOf("dir-welcome"), "SKIP empty");
  assert.equal(esOf("beeperr"), "SKIP annotation only");
  assert.equal(esOf("confbridge-join"), "SKIP annotation only");
});

test("a missing package is named with the apt-get line that installs it", async () => {
  await assert.rejects(
    locateSources({ audio: "nast-no-such-package-g722", en: asteriskPackages.en, es: "nast-no-such-package-es" }),
    /^Error: Debian packages nast-no-such-package-g722, nast-no-such-package-es not installed: apt-get install -y --no-install-recommends nast-no-such-package-g722 nast-no-such-package-es$/,
  );
});

test("talks: 8-20 prompts, pauses of 0.3-1.2 s, fixed by the seed", () => {
  const names = Array.from({ length: 100 }, (_, i) => `p${i}`);
  const a = planAsteriskTalks(names, 1, "tst-AST");
  assert.deepEqual(planAsteriskTalks([...names].reverse(), 1, "tst-AST"), a, "the order of the names given does not matter");
  assert.notDeepEqual(planAsteriskTalks(names, 2, "tst-AST"), a);
  assert.deepEqual(a.flatMap((t) => t.prompts).sort(), [...names].sort());
  for (const t of a) {
    assert.ok(t.prompts.length >= 8 && t.prompts.length <= 27, `${t.name}: ${t.prompts.length} prompts`);
    for (const p of [...t.pauses, t.tail]) assert.ok(p >= 0.3 && p < 1.2, `pause ${p}`);
  }
  assert.deepEqual(a.map((t) => t.name).slice(0, 2), ["ast_1", "ast_2"]);
  let exact = 0;
  for (let n = 0; n < 20000; n++) if (exactInYaml(n)) exact++;
  assert.ok(exact > 10000 && exact < 20000, `${exact} of 20000 sample counts are exact in 6 decimals`);
});

/** A recording decoded here, independently of the module. */
const decoded = new Map<string, Int16Array>();
function decodeHere(path: string): Int16Array {
  const known = decoded.get(path);
  if (known) return known;
  const r = spawnSync("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "g722", "-i", path, "-f", "s16le", "-"], { maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, String(r.stderr));
  const samples = new Int16Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + r.stdout.length));
  decoded.set(path, samples);
  return samples;
}

function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f !== "asterisk.log") out[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

const out = join(work, "ast");
const run1 = nast(["corpus", "asterisk", "-o", out, "--max-prompts", "30", "--jobs", "2"]);

test("a small run is a valid MuST-C corpus whose segments are the recordings, sample for sample", async () => {
  assert.equal(run1.code, 0, run1.stderr);
  assert.match(run1.stderr, /tst-AST: 30 prompts in [23] talks, 0\.0\d\d h; 3 skipped \(English annotation only: 3\)/);
  assert.match(run1.stderr, /tst-AST-HUMAN: 15 prompts in 1 talks, .*no Spanish transcript: 15/);
  const log = readFileSync(join(out, "en-es", "asterisk.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(log.map((l) => l.event), ["start", "end"]);
  assert.deepEqual((log[1]!.splits as Record<string, { prompts: number }>)["tst-AST"]!.prompts, 30);

  // Which talk each prompt went to, from the prompt table.
  const table = readFileSync(join(out, "en-es", "asterisk-prompts.tsv"), "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
  const inTalk = (col: number, talk: string) => table.filter((r) => r[col] === talk).map((r) => r[0]!);
  const expectedEs = new Map<string, string>();
  for (const [split, col] of [["tst-AST", 1], ["tst-AST-HUMAN", 2]] as const) {
    const s = readMustcSplit(out, "en-es", split);
    assert.equal(s.segments.length, split === "tst-AST" ? 30 : 15);
    assert.deepEqual(readdirSync(join(s.dir, "wav")).sort(), s.talks.map((t) => `${t.talk}.wav`).sort());
    const seen = new Set<string>();
    for (const talk of s.talks) {
      const w = readWav16(talk.wav);
      assert.deepEqual([w.rate, w.channels, w.bits], [16000, 1, 16]);
      const candidates = inTalk(col, talk.talk).map((name) => ({ name, audio: decodeHere(sources.recordings.get(name)!) }));
      assert.equal(candidates.length, talk.segments.length, `${talk.talk}: prompts in the table`);
      const byOffset = [...talk.segments].sort((a, b) => a.startSample - b.startSample);
      let prevEnd = 0;
      for (const seg of byOffset) {
        // The yaml's times, read as fairseq reads them, are whole samples exactly.
        assert.equal(seg.startSample, Math.round(seg.offset * 16000), `${seg.id} offset ${seg.offset}`);
        assert.equal(seg.numSamples, Math.round(seg.duration * 16000), `${seg.id} duration ${seg.duration}`);
        const slice = w.samples.subarray(seg.startSample, seg.startSample + seg.numSamples);
        const match = candidates.filter((c) => c.audio.length <= seg.numSamples && c.audio.length >= seg.numSamples - 6 &&
          c.audio.every((v, k) => v === slice[k]) && slice.subarray(c.audio.length).every((v) => v === 0));
        assert.equal(match.length, 1, `${seg.id}: segment audio is exactly one recording of the talk`);
        const name = match[0]!.name;
        seen.add(name);
        const pause = (seg.startSample - prevEnd) / 16000;
        assert.ok(pause >= 0.3 && pause < 1.201, `${seg.id}: pause ${pause}`);
        assert.ok(w.samples.subarray(prevEnd, seg.startSample).every((v) => v === 0), `${seg.id}: pause is silence`);
        prevEnd = seg.startSample + seg.numSamples;
        assert.equal(seg.speaker, "spk.asterisk");
        assert.equal(seg.src, englishSentence(text(en.entries.get(name)!.raw)), `${seg.id} (${name}) English`);
        if (split === "tst-AST-HUMAN") {
          // The human split's reference is the Spanish transcript of the same prompt.
          assert.equal(seg.tgt, spanishSentence(text(es.entries.get(name)!.raw)), `${seg.id} (${name}) Spanish`);
        } else expectedEs.set(seg.src, seg.tgt);
      }
      const tail = (w.samples.length - prevEnd) / 16000;
      assert.ok(tail >= 0.3 && tail < 1.2, `${talk.talk}: tail ${tail}`);
    }
    assert.equal(seen.size, s.segments.length, `${split}: every prompt once`);
  }
  // tst-AST's Spanish is apertium's, as the synthetic corpus translates its sentences.
  const ast = readMustcSplit(out, "en-es", "tst-AST");
  const translated = await translateAll(ast.segments.map((x) => x.src), { jobs: 1, pair: "eng-spa" });
  assert.deepEqual(ast.segments.map((x) => x.tgt), translated);
  assert.ok(expectedEs.size > 20);
});

test("a rerun writes the same bytes and removes what another run left", () => {
  assert.equal(run1.code, 0, run1.stderr);
  const before = treeHashes(join(out, "en-es"));
  const wavDir = join(out, "en-es", "data", "tst-AST", "wav");
  writeFileSync(join(wavDir, "ast_99.wav"), "stale");
  writeFileSync(join(wavDir, "ast_1.wav.tmp-12345"), "killed");
  const run2 = nast(["corpus", "asterisk", "-o", out, "--max-prompts", "30", "--jobs", "2"]);
  assert.equal(run2.code, 0, run2.stderr);
  assert.deepEqual(treeHashes(join(out, "en-es")), before);
});

test("a recording that fails to decode is left out and reported; the others are written", async () => {
  const recordings = new Map(sources.recordings);
  const empty = join(work, "empty.g722");
  writeFileSync(empty, "");
  recordings.set("added", join(work, "no-such-file.g722"));
  recordings.set("agent-loggedoff", empty);
  const dir = join(work, "broken");
  const s = await buildAsteriskCorpus({ outDir: dir, pair: "en-es", seed: 1, jobs: 2, maxPrompts: 9, sources: { ...sources, recordings } });
  assert.deepEqual(s.failed.map((f) => f.prompt), ["added", "agent-loggedoff"]);
  assert.match(s.failed[0]!.error, /no-such-file\.g722/);
  assert.match(s.failed[1]!.error, /decoded to no audio/);
  assert.deepEqual(s.splits["tst-AST"]!.skipped, { "decode failed": 2 });
  assert.equal(readMustcSplit(dir, "en-es", "tst-AST").segments.length, 7);
  assert.equal(readMustcSplit(dir, "en-es", "tst-AST-HUMAN").segments.length, 6);
  const table = readFileSync(join(dir, "en-es", "asterisk-prompts.tsv"), "utf8");
  assert.match(table, /^added\tskipped: decode failed\tskipped: decode failed\t/m);
});
