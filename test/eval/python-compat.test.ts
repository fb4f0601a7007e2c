// The Python behaviours sacreBLEU's numbers and output depend on (docs/design.md §7.5), checked against values
// printed by CPython 3.11.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pyFixed, pyFloatRepr, pyJsonDumps, pyLen, pyNormalizeSpaces, pyRstrip, pySplit } from "../../eval/metrics/python.ts";

test("f-string fixed formatting rounds exact binary ties to even, keeps -0.0", () => {
  // Python: f'{0.125:.2f} {2.5:.0f} {0.375:.2f} {-0.0:.1f} {-0.04:.1f} {1e-7:.3f} {123.456:.1f}'
  const got = [pyFixed(0.125, 2), pyFixed(2.5, 0), pyFixed(0.375, 2), pyFixed(-0, 1), pyFixed(-0.04, 1), pyFixed(1e-7, 3), pyFixed(123.456, 1)];
  assert.deepEqual(got, ["0.12", "2", "0.38", "-0.0", "-0.0", "0.000", "123.5"]);
  assert.equal((0.125).toFixed(2), "0.13", "JavaScript rounds the tie up, which is why pyFixed exists");
  assert.equal(pyFixed(48.530827009929865, 2), "48.53");
});

test("float repr as json.dumps prints it", () => {
  // Python: repr(1e-05), repr(0.0001), repr(1e16), repr(123456789012345678.0), repr(100.0), repr(0.1+0.2)
  assert.deepEqual(
    [pyFloatRepr(1e-5), pyFloatRepr(0.0001), pyFloatRepr(1e16), pyFloatRepr(123456789012345678), pyFloatRepr(100), pyFloatRepr(0.1 + 0.2)],
    ["1e-05", "0.0001", "1e+16", "1.2345678901234568e+17", "100.0", "0.30000000000000004"],
  );
  assert.equal(pyJsonDumps({ a: 1, b: "é😀\u0001", c: null }, 1, false), '{\n "a": 1.0,\n "b": "é😀\\u0001",\n "c": null\n}');
  assert.equal(pyJsonDumps(["é😀"], 4, true), '[\n    "\\u00e9\\ud83d\\ude00"\n]');
});

test("str.split()/rstrip() whitespace is Python's, not JavaScript's", () => {
  // U+001C..U+001F and U+0085 are whitespace to Python, U+FEFF is not (JavaScript's \s says the opposite).
  assert.deepEqual(pySplit("a\u001cb\u0085c\ufeffd  e\u3000"), ["a", "b", "c\ufeffd", "e"]);
  assert.equal(pyRstrip("x \u00a0\u2028\u001f"), "x");
  assert.equal(pyRstrip("x\ufeff"), "x\ufeff");
  assert.equal(pyNormalizeSpaces("  a \t b\n"), "a b");
  assert.deepEqual(pySplit(""), []);
  assert.equal(pyLen("e\u0301😀"), 3, "code points, as Python's len");
});
