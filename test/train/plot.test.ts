// `nast plot`: the PNG holds one panel per quantity, each series drawn in its color where its values are
// (a falling loss sits high on the left and low on the right), and a cut last log line is tolerated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNast } from "../helpers/cli.ts";
import { PNG } from "pngjs";
import { formatTick, panelsFromLog } from "../../src/train/plot.ts";

function pixelsOf(png: PNG, color: readonly number[], y0: number, y1: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] === color[0] && png.data[i + 1] === color[1] && png.data[i + 2] === color[2]) out.push([x, y]);
    }
  }
  return out;
}

test("tick labels are short", () => {
  assert.equal(formatTick(0.001), "1E-3");
  assert.equal(formatTick(0.0005), "5E-4");
  assert.equal(formatTick(250), "250");
  assert.equal(formatTick(0.25), "0.25");
  assert.equal(formatTick(12345.6), "12300");
});

test("panels from a log: later records of a resumed step win, loss terms found by name", () => {
  const panels = panelsFromLog([
    { event: "train", step: 1, loss: 9, loss_src: 4, lr: 1e-4 },
    { event: "train", step: 2, loss: 8, loss_src: 3, lr: 2e-4 },
    { event: "train", step: 2, loss: 7, loss_src: 3, lr: 2e-4 },
    { event: "valid", step: 2, bleu: 1.5 },
  ]);
  assert.deepEqual(panels.map((p) => p.title), ["loss", "BLEU", "learning rate"]);
  assert.deepEqual(panels[1]!.series.map((s) => s.name), ["dev"]);
  assert.deepEqual(panels[0]!.series.map((s) => s.name), ["loss", "loss_src"]);
  assert.deepEqual(panels[0]!.series[0]!.points, [[1, 9], [2, 7]]);
  assert.deepEqual(panels[1]!.series[0]!.points, [[2, 1.5]]);
});

test("panels from a log: every validated split gets its BLEU and source WER line, named as the run named it", () => {
  const panels = panelsFromLog([
    { event: "start", settings: { validSplit: "dev-real" } },
    { event: "train", step: 1, loss: 9, lr: 1e-4 },
    { event: "valid", step: 1, bleu: 10, srcWer: 60 },
    { event: "valid_extra", step: 1, split: "dev", bleu: 20, srcWer: 30 },
    { event: "valid_extra", step: 1, split: "tst-AST", bleu: 3, srcWer: 80 },
    { event: "valid", step: 2, bleu: 12, srcWer: 55 },
    { event: "valid_extra", step: 2, split: "tst-AST", bleu: 4 },
  ]);
  assert.deepEqual(panels.map((p) => p.title), ["loss", "BLEU", "source WER (%)", "learning rate"]);
  assert.deepEqual(panels[1]!.series.map((s) => s.name), ["dev-real", "dev", "tst-AST"]);
  assert.deepEqual(panels[1]!.series.map((s) => s.points), [[[1, 10], [2, 12]], [[1, 20]], [[1, 3], [2, 4]]]);
  assert.deepEqual(panels[2]!.series[2]!.points, [[1, 80]], "a record without srcWer adds no WER point");
  assert.equal(new Set(panels[1]!.series.map((s) => s.color.join())).size, 3, "one color per split");
});

test("nast plot draws a falling loss from top left to bottom right", () => {
  const dir = mkdtempSync(join(tmpdir(), "nast-plot-"));
  try {
    const lines: string[] = [];
    for (let step = 1; step <= 100; step++) {
      lines.push(JSON.stringify({ event: "train", step, loss: 100 / step, lr: 1e-3 * Math.min(step / 10, Math.sqrt(10 / step)) }));
      if (step % 25 === 0) lines.push(JSON.stringify({ event: "valid", step, bleu: step / 5 }));
    }
    writeFileSync(join(dir, "train.log.jsonl"), lines.join("\n") + '\n{"event":"tr');
    const r = runNast(["plot", dir]);
    assert.equal(r.code, 0, r.stderr);
    const png = PNG.sync.read(readFileSync(join(dir, "curves.png")));
    assert.equal(png.width, 1200);
    const panelH = png.height / 3;
    const panels = panelsFromLog(lines.map((l) => JSON.parse(l)));
    const lossColor = panels[0]!.series[0]!.color;
    const loss = pixelsOf(png, lossColor, 0, panelH);
    assert.ok(loss.length > 200, `loss line drawn (${loss.length} px)`);
    const xs = loss.map(([x]) => x);
    const mid = (Math.min(...xs) + Math.max(...xs)) / 2;
    const meanY = (pts: Array<[number, number]>) => pts.reduce((a, [, y]) => a + y, 0) / pts.length;
    assert.ok(meanY(loss.filter(([x]) => x < mid)) < meanY(loss.filter(([x]) => x > mid)), "left half above right half");
    const bleu = pixelsOf(png, panels[1]!.series[0]!.color, panelH, 2 * panelH);
    assert.ok(bleu.length > 50, "BLEU panel drawn");
    const bl = bleu.filter(([x]) => x > 150);
    const bxs = bl.map(([x]) => x);
    const bmid = (Math.min(...bxs) + Math.max(...bxs)) / 2;
    assert.ok(meanY(bl.filter(([x]) => x < bmid)) > meanY(bl.filter(([x]) => x > bmid)), "rising BLEU: right half higher");
    assert.ok(pixelsOf(png, panels[2]!.series[0]!.color, 2 * panelH, 3 * panelH).length > 50, "lr panel drawn");

    const missing = runNast(["plot", join(dir, "none")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /train\.log\.jsonl: cannot read the training log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
