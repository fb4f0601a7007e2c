// Output formats: exact renderings of a small result, and validity of edge cases (zero-length and
// out-of-range segments, empty translations, text that would break the cue syntax).
import { test } from "node:test";
import assert from "node:assert/strict";
import { render, timestamp, toJson, toSrt, toTxt, toVtt, joinTranslations, type FileResult } from "../../src/infer/result-formats.ts";
import { tokensToWords } from "../../src/infer/words.ts";
import { parseSrt, parseVtt } from "./subtitles.ts";

const result: FileResult = {
  file: "talk.wav",
  duration: 3725.5,
  model: "models/default",
  segments: [
    { start: 0.5, end: 2.25, source: "hello world", translation: "hola mundo" },
    { start: 3, end: 3.5, source: "", translation: "" },
    { start: 3661.042, end: 3662, source: "bye", translation: "adiós" },
  ],
  translation: "hola mundo adiós",
};

test("timestamps: HH:MM:SS,mmm (srt) and HH:MM:SS.mmm (vtt)", () => {
  assert.equal(timestamp(0, ","), "00:00:00,000");
  assert.equal(timestamp(3661042, "."), "01:01:01.042");
  assert.equal(timestamp(100 * 3600 * 1000 + 5, ","), "100:00:00,005");
});

test("srt, vtt and txt renderings", () => {
  assert.equal(toSrt(result), "1\n00:00:00,500 --> 00:00:02,250\nhola mundo\n\n2\n01:01:01,042 --> 01:01:02,000\nadiós\n\n");
  assert.equal(toVtt(result), "WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nhola mundo\n\n01:01:01.042 --> 01:01:02.000\nadiós\n\n");
  assert.equal(toTxt(result), "hola mundo\nadiós\n");
  assert.equal(joinTranslations(result.segments), "hola mundo adiós");
  assert.deepEqual(JSON.parse(toJson(result)), result);
  assert.equal(render("srt", result), toSrt(result));
});

test("subtitles stay valid for degenerate segments", () => {
  const odd: FileResult = {
    file: "x.wav",
    duration: 2,
    model: "m",
    segments: [
      { start: 1.2, end: 1.2, source: "", translation: "zero length" },
      { start: 0.2, end: 0.9, source: "", translation: "two\n\nparagraphs --> arrow" },
      { start: 1.5, end: 9, source: "", translation: "past the end" },
      { start: 2, end: 2, source: "", translation: "at the very end" },
    ],
    translation: "",
  };
  const srt = parseSrt(toSrt(odd), odd.duration);
  const vtt = parseVtt(toVtt(odd), odd.duration);
  assert.equal(srt.length, 3);
  assert.deepEqual(srt, vtt);
  assert.equal(srt[0]!.text, "two paragraphs -> arrow");
  assert.deepEqual(srt[1], { start: 1.2, end: 1.201, text: "zero length" });
  assert.deepEqual(srt[2], { start: 1.5, end: 2, text: "past the end at the very end" });
});

test("words: pieces starting with ▁ open a word; times are frame × 40 ms + the segment offset", () => {
  const pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁hola", "▁mun", "do", ",", "▁", "sí"];
  const sp = {
    idToPiece: (id: number) => pieces[id]!,
    decode: (ids: number[]) => ids.map((i) => pieces[i]!).join("").replace(/▁/g, " ").trim(),
  };
  const tokens = [
    { id: 4, start: 2, end: 4 },
    { id: 5, start: 6, end: 7 },
    { id: 6, start: 8, end: 9 },
    { id: 7, start: 9, end: 10 },
    { id: 8, start: 12, end: 13 },
    { id: 9, start: 13, end: 15 },
  ];
  assert.deepEqual(tokensToWords(tokens, sp, 0.04, 10), [
    { word: "hola", start: 10.08, end: 10.16 },
    { word: "mundo,", start: 10.24, end: 10.4 },
    { word: "sí", start: 10.48, end: 10.6 },
  ]);
});
