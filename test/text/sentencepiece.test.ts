// SentencePiece in TypeScript against Debian's spm_encode/spm_decode 0.1.97: the shared vectors, and
// models trained here with spm_train on generated text, compared line by line on ids, pieces and
// decoded text (docs/design.md §7.3).
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { BLANK_ID } from "../../src/text/sentencepiece-codec.ts";
import { trainSentencePiece } from "../../src/text/train.ts";
import { mulberry32 } from "../../src/util/rng.ts";

const VECTORS = new URL("../vectors/", import.meta.url).pathname;

interface VectorCase {
  input: string;
  pieces: string[];
  ids: number[];
  decoded: string;
}
interface VectorModel {
  file: string;
  num_pieces: number;
  pieces: { id: number; piece: string }[];
  encode_cases: VectorCase[];
  decode_ids_with_control: { ids: number[]; decoded: string }[];
  decode_unk_id: { ids: number[]; decoded: string };
}

describe("spm-vectors.json", () => {
  const vectors = JSON.parse(readFileSync(join(VECTORS, "spm-vectors.json"), "utf8")) as { models: VectorModel[] };
  for (const m of vectors.models) {
    test(m.file, () => {
      const sp = SentencePiece.load(join(VECTORS, m.file));
      assert.equal(sp.vocabSize, m.num_pieces);
      for (const p of m.pieces) {
        assert.equal(sp.idToPiece(p.id), p.piece);
        assert.equal(sp.pieceToId(p.piece), p.id);
      }
      for (const c of m.encode_cases) {
        assert.deepEqual(sp.encode(c.input), c.ids, `ids of ${JSON.stringify(c.input)}`);
        assert.deepEqual(sp.encodePieces(c.input), c.pieces, `pieces of ${JSON.stringify(c.input)}`);
        assert.equal(sp.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.ids)}`);
      }
      for (const d of m.decode_ids_with_control) assert.equal(sp.decode(d.ids), d.decoded);
      assert.equal(sp.decode(m.decode_unk_id.ids), m.decode_unk_id.decoded);
    });
  }

  test("out-of-range ids are rejected like spm_decode", () => {
    const sp = SentencePiece.load(join(VECTORS, "spm-test-nfkc.model"));
    assert.throws(() => sp.decode([5, sp.vocabSize]), /out of range/);
  });

  test("a file that is not a model gives an error naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "nast-spm-bad-"));
    try {
      const path = join(dir, "bad.model");
      writeFileSync(path, "this is not a protobuf\n");
      assert.throws(() => SentencePiece.load(path), (err: Error) => err.message.includes(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const WORDS = (
  "the of and to in is that it was for on are with as his they be at one have this from or had by hot " +
  "el la de que y en un ser se no haber por con su para como estar tener le lo todo pero más hacer o " +
  "niño año corazón canción música pequeño señora über Straße größer Zürich fiancée café naïve déjà"
).split(" ");
// Characters that exercise normalization (NFKC, case folding, whitespace mapping), unknown and byte
// fallback paths: fullwidth, ligatures, circled digits, roman numerals, combining marks, CJK, Arabic,
// emoji (4-byte), zero-width and control characters, NBSP, tab, ideographic space, U+FFFD.
const ODD = [
  "ＡＢＣ", "ﬁ", "ﬂ", "①", "Ⅻ", "e\u0301", "\u00a0", "\t", "\u3000", "日本語", "ｶﾀｶﾅ", "سلام", "☃", "😀",
  "\u200b", "\u0007", "\ufffd", "²", "ǅ", "K", "…", "«", "»", "—", "2024", "3.14", "<lang:es>", "<lang:de>", "<s>", "  ",
];

function sentence(r: () => number, oddRate: number): string {
  const n = 1 + Math.floor(r() * 14);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = r() < oddRate ? ODD[Math.floor(r() * ODD.length)]! : WORDS[Math.floor(r() * WORDS.length)]!;
    if (r() < 0.1) w = w.charAt(0).toUpperCase() + w.slice(1);
    if (r() < 0.08) w += [",", ".", "!", "?", ";", ":"][Math.floor(r() * 6)];
    parts.push(w);
  }
  const sep = r() < 0.1 ? "   " : " ";
  const lead = r() < 0.05 ? "  " : "";
  const trail = r() < 0.05 ? " \t" : "";
  return lead + parts.join(sep) + trail;
}

function spm(tool: string, args: string[], input: string): string[] {
  const out = execFileSync(tool, args, { input, encoding: "utf8", maxBuffer: 64 << 20 });
  const lines = out.split("\n");
  assert.equal(lines.pop(), "", `${tool} output ends with a newline`);
  return lines;
}

describe("models trained by spm_train on generated text", () => {
  let dir = "";
  const train: string[] = [];
  const testLines: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nast-spm-"));
    const r = mulberry32(20261128);
    for (let i = 0; i < 3000; i++) train.push(sentence(r, 0.04));
    for (let i = 0; i < 300; i++) testLines.push(sentence(r, 0.3));
    testLines.push("", " ", "\t", "x", "ＡＢＣ ﬁnden ① Ⅻ", "<lang:es> hola <lang:de>");
    writeFileSync(join(dir, "train.txt"), train.join("\n") + "\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const configs: { name: string; vocab: number; extra: string[] }[] = [
    { name: "nmt_nfkc, fairseq id layout", vocab: 300, extra: [] },
    {
      name: "nfkc_cf, byte fallback, user-defined symbols",
      vocab: 500,
      extra: ["--byte_fallback=true", "--user_defined_symbols=<lang:es>,<lang:de>", "--normalization_rule_name=nfkc_cf"],
    },
    { name: "identity normalization, no dummy prefix, extra whitespace kept", vocab: 250, extra: ["--normalization_rule_name=identity", "--add_dummy_prefix=false", "--remove_extra_whitespaces=false"] },
  ];

  test("a BPE model is refused with an error naming the file", () => {
    const prefix = join(dir, "bpe");
    execFileSync("spm_train", [`--input=${join(dir, "train.txt")}`, `--model_prefix=${prefix}`, "--model_type=bpe", "--vocab_size=200", "--minloglevel=2"], { stdio: "ignore" });
    assert.throws(() => SentencePiece.load(`${prefix}.model`), (e: Error) => e.message.includes(`${prefix}.model`) && /BPE is not supported/.test(e.message));
  });

  for (const cfg of configs) {
    test(cfg.name, async () => {
      const modelPath = join(dir, `${cfg.vocab}.model`);
      const sp = await trainSentencePiece({ inputs: [join(dir, "train.txt")], modelPath, vocabSize: cfg.vocab, extraArgs: cfg.extra });
      assert.equal(sp.idToPiece(BLANK_ID), "<s>");
      assert.equal(sp.pieceToId("<unk>"), 3);
      const input = testLines.join("\n") + "\n";
      const ids = spm("spm_encode", [`--model=${modelPath}`, "--output_format=id"], input);
      const pieces = spm("spm_encode", [`--model=${modelPath}`, "--output_format=piece"], input);
      assert.equal(ids.length, testLines.length);
      const ourIds = testLines.map((l) => sp.encode(l));
      testLines.forEach((line, i) => {
        assert.equal(ourIds[i]!.join(" "), ids[i], `ids of line ${i} ${JSON.stringify(line)}`);
        assert.equal(sp.encodePieces(line).join(" "), pieces[i], `pieces of line ${i} ${JSON.stringify(line)}`);
      });

      // Decode: the encodings above plus random id sequences (control, unknown and byte pieces,
      // invalid UTF-8 byte runs), skipping the newline byte that would split spm_decode's lines.
      const r = mulberry32(cfg.vocab);
      const idLines = ourIds.filter((l) => l.length > 0);
      const newline = sp.pieceToId("<0x0A>");
      for (let i = 0; i < 200; i++) {
        const len = 1 + Math.floor(r() * 20);
        const seq: number[] = [];
        while (seq.length < len) {
          const id = Math.floor(r() * sp.vocabSize);
          if (id !== newline || newline === 3) seq.push(id);
        }
        idLines.push(seq);
      }
      const decoded = spm("spm_decode", [`--model=${modelPath}`, "--input_format=id"], idLines.map((l) => l.join(" ")).join("\n") + "\n");
      assert.equal(decoded.length, idLines.length);
      idLines.forEach((seq, i) => assert.equal(sp.decode(seq), decoded[i], `decode of ${seq.join(" ")}`));
    });
  }
});

/** Real English text: the Debian `fortunes` package (installed for the synthetic corpus too). */
function fortuneLines(): string[] {
  const dir = "/usr/share/games/fortunes";
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const lines: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.includes(".")) continue; // .dat indexes and .u8 links
    let text: string;
    try {
      text = decoder.decode(readFileSync(join(dir, f)));
    } catch {
      continue; // a file that is not UTF-8
    }
    for (const l of text.split("\n")) if (l.trim() !== "" && l !== "%") lines.push(l);
  }
  return lines;
}

test("fortunes text: a 1000-piece model, every line identical to spm_encode and spm_decode", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-spm-fortunes-"));
  try {
    const lines = fortuneLines().slice(0, 10000);
    assert.ok(lines.length > 5000, `only ${lines.length} fortune lines`);
    writeFileSync(join(dir, "train.txt"), lines.join("\n") + "\n");
    const modelPath = join(dir, "f.model");
    const sp = await trainSentencePiece({ inputs: [join(dir, "train.txt")], modelPath, vocabSize: 1000, threads: 2 });
    assert.equal(sp.vocabSize, 1000);
    const input = lines.join("\n") + "\n";
    const ids = spm("spm_encode", [`--model=${modelPath}`, "--output_format=id"], input);
    const ours = lines.map((l) => sp.encode(l));
    lines.forEach((l, i) => assert.equal(ours[i]!.join(" "), ids[i], `line ${i} ${JSON.stringify(l)}`));
    const nonEmpty = ours.filter((o) => o.length > 0);
    const decoded = spm("spm_decode", [`--model=${modelPath}`, "--input_format=id"], nonEmpty.map((o) => o.join(" ")).join("\n") + "\n");
    nonEmpty.forEach((o, i) => assert.equal(sp.decode(o), decoded[i]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
