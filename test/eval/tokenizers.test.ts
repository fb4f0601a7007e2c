// Tokenizer details beyond the shared vectors; expected outputs printed by sacreBLEU 2.6.0 (regex 2026.9.29).
import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenize13a, tokenizeIntl, tokenizeZh } from "../../eval/metrics/index.ts";

test("intl knows the code points that Python's regex module classifies but V8's tables do not yet", () => {
  // TokenizerV14International()('a\u20c2b \u2e60x 1\u2e61 \U0001FA8Bok \U0001246F. 5\u2e60')
  assert.equal(
    tokenizeIntl("a\u20c2b \u2e60x 1\u2e61 \u{1FA8B}ok \u{1246F}. 5\u2e60"),
    "a \u20c2 b \u2e60 x 1 \u2e61 \u{1FA8B} ok \u{1246F} . 5\u2e60",
  );
});

test("zh splits U+2001..U+2A6D (sacreBLEU's mis-written range) but not real CJK Extension B", () => {
  // TokenizerZh()('我“们”€𠀀x') → '我 “ 们 ” € 𠀀x'
  assert.equal(tokenizeZh("我“们”€\u{20000}x"), "我 “ 们 ” € \u{20000}x");
  // Tokenizer13a()("&amp;lt;b&gt;") → "< b >": entities are replaced one after the other
  assert.equal(tokenize13a("&amp;lt;b&gt;"), "< b >");
});
