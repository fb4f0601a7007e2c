// Training curves from EXP_DIR/train.log.jsonl to a PNG: one panel per quantity (loss terms, dev BLEU,
// learning rate), drawn pixel by pixel into an RGBA buffer and encoded with pngjs. Text uses the 5×7
// bitmap font of src/util/bitmap-font.ts, so the image needs no font files.
import { readFileSync } from "node:fs";
import { InputError } from "../util/errors.ts";
import { GLYPH_HEIGHT, textWidth } from "../util/bitmap-font.ts";
import { Canvas, type Rgb } from "../util/png-canvas.ts";

export interface Series {
  name: string;
  color: Rgb;
  points: Array<[number, number]>;
}

export interface Panel {
  title: string;
  series: Series[];
  /** Logarithmic y axis (for losses spanning orders of magnitude); needs positive values. */
  logY?: boolean;
}

const PALETTE: Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/** The records of a JSON-lines log; unparsable lines (e.g. a line cut by a kill) are skipped. */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(path, `cannot read the training log (${(err as Error).message}); is this an experiment directory written by nast train?`);
  }
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A partially written last line after a kill; the rest of the log is still good.
    }
  }
  return out;
}

/**
 * The panels of a training log: every numeric `loss*` field of "train" events; BLEU and source WER of every
 * validated split (the ranking split of "valid" events, named by the start event's `validSplit`, and each
 * `--also-validate` split of "valid_extra" events), so a real-speech curve sits beside the synthetic one;
 * and the learning rate. The WER panel is drawn only when some validation logged a source WER. A resumed
 * run logs some steps twice; the later record of a step wins.
 */
export function panelsFromLog(records: Array<Record<string, unknown>>): Panel[] {
  const byStep = (keep: (r: Record<string, unknown>) => boolean): Map<number, Record<string, unknown>> => {
    const m = new Map<number, Record<string, unknown>>();
    for (const r of records) if (keep(r) && typeof r.step === "number") m.set(r.step, r);
    return new Map([...m.entries()].sort((a, b) => a[0] - b[0]));
  };
  const train = byStep((r) => r.event === "train");
  const start = records.find((r) => r.event === "start");
  const settings = start?.settings as Record<string, unknown> | undefined;
  const validName = typeof settings?.validSplit === "string" ? settings.validSplit : "dev";
  const splits: Array<[string, Map<number, Record<string, unknown>>]> = [[validName, byStep((r) => r.event === "valid")]];
  for (const r of records) {
    const split = r.event === "valid_extra" && typeof r.split === "string" ? r.split : undefined;
    if (split !== undefined && split !== validName && !splits.some(([n]) => n === split)) {
      splits.push([split, byStep((x) => x.event === "valid_extra" && x.split === split)]);
    }
  }
  const lossKeys = new Set<string>();
  for (const r of train.values()) for (const [k, v] of Object.entries(r)) if (k.startsWith("loss") && typeof v === "number") lossKeys.add(k);
  const seriesOf = (rows: Map<number, Record<string, unknown>>, key: string, i: number, name = key): Series => ({
    name,
    color: PALETTE[i % PALETTE.length] as Rgb,
    points: [...rows.entries()].filter(([, r]) => typeof r[key] === "number" && Number.isFinite(r[key])).map(([s, r]) => [s, r[key] as number]),
  });
  const losses = [...lossKeys].sort().map((k, i) => seriesOf(train, k, i));
  const positive = losses.every((s) => s.points.every(([, y]) => y > 0));
  const bleu = splits.map(([name, rows], i) => seriesOf(rows, "bleu", 3 + i, name));
  const wer = splits.map(([name, rows], i) => seriesOf(rows, "srcWer", 3 + i, name));
  return [
    { title: "loss", series: losses, logY: positive && losses.some((s) => s.points.length > 0) },
    { title: "BLEU", series: bleu },
    ...(wer.some((s) => s.points.length > 0) ? [{ title: "source WER (%)", series: wer }] : []),
    { title: "learning rate", series: [seriesOf(train, "lr", 2)] },
  ];
}

/** Tick values at 1, 2 or 5 × 10^k spacing, about `count` of them over [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

/** A short label: at most 3 significant digits, exponent form for very small or large values. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) {
    const [m, e] = v.toExponential(1).split("e");
    return `${String(Number(m))}E${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

const AXIS: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];

function drawPanel(cv: Canvas, panel: Panel, left: number, top: number, width: number, height: number): void {
  const scale = 2;
  const lineH = GLYPH_HEIGHT * scale;
  cv.text(panel.title, left + (width - textWidth(panel.title, scale)) / 2, top, AXIS, scale);
  const plotL = left + 90;
  const plotR = left + width - 20;
  const plotT = top + lineH + 12;
  const legendRows = Math.ceil(panel.series.length / 3);
  const plotB = top + height - 40 - legendRows * (lineH + 6);
  const pts = panel.series.flatMap((s) => s.points);
  if (pts.length === 0) {
    const msg = "no data yet";
    cv.text(msg, (plotL + plotR - textWidth(msg, scale)) / 2, (plotT + plotB) / 2, AXIS, scale);
    return;
  }
  const fy = panel.logY ? (y: number) => Math.log10(y) : (y: number) => y;
  let xLo = Math.min(...pts.map((p) => p[0]));
  let xHi = Math.max(...pts.map((p) => p[0]));
  let yLo = Math.min(...pts.map((p) => fy(p[1])));
  let yHi = Math.max(...pts.map((p) => fy(p[1])));
  if (xHi === xLo) xHi = xLo + 1;
  if (yHi === yLo) [yLo, yHi] = [yLo - 0.5, yHi + 0.5];
  const pad = (yHi - yLo) * 0.05;
  yLo -= pad;
  yHi += pad;
  if (!panel.logY && yLo < 0 && Math.min(...pts.map((p) => p[1])) >= 0) yLo = 0;
  const px = (x: number) => plotL + ((x - xLo) / (xHi - xLo)) * (plotR - plotL);
  const py = (y: number) => plotB - ((fy(y) - yLo) / (yHi - yLo)) * (plotB - plotT);

  // Grid and tick labels. A log axis labels powers of ten (and 2, 5 between them when the range is short).
  const yTicks = panel.logY
    ? (() => {
        const out: number[] = [];
        const mult = yHi - yLo < 2 ? [1, 2, 5] : [1];
        for (let e = Math.floor(yLo); e <= Math.ceil(yHi); e++) for (const m of mult) {
          const v = m * 10 ** e;
          if (Math.log10(v) >= yLo && Math.log10(v) <= yHi) out.push(v);
        }
        return out;
      })()
    : niceTicks(yLo, yHi, 5);
  for (const v of yTicks) {
    const y = py(v);
    cv.line(plotL, y, plotR, y, GRID);
    const label = formatTick(v);
    cv.text(label, plotL - 8 - textWidth(label, scale), y - lineH / 2, AXIS, scale);
  }
  for (const v of niceTicks(xLo, xHi, 6)) {
    const x = px(v);
    cv.line(x, plotT, x, plotB, GRID);
    cv.line(x, plotB, x, plotB + 5, AXIS);
    const label = formatTick(v);
    cv.text(label, x - textWidth(label, scale) / 2, plotB + 9, AXIS, scale);
  }
  cv.line(plotL, plotT, plotL, plotB, AXIS, 2);
  cv.line(plotL, plotB, plotR, plotB, AXIS, 2);
  const stepLabel = "step";
  cv.text(stepLabel, plotR - textWidth(stepLabel, scale), plotB + 9 + lineH + 4, AXIS, scale);

  for (const s of panel.series) {
    const visible = s.points.filter(([, y]) => !panel.logY || y > 0);
    for (let i = 1; i < visible.length; i++) {
      const [x0, y0] = visible[i - 1] as [number, number];
      const [x1, y1] = visible[i] as [number, number];
      cv.line(px(x0), py(y0), px(x1), py(y1), s.color, 2);
    }
    // A lone point (e.g. one validation) would otherwise be invisible.
    if (visible.length === 1) {
      const [x, y] = visible[0] as [number, number];
      for (let d = -3; d <= 3; d++) cv.line(px(x) - 3, py(y) + d, px(x) + 3, py(y) + d, s.color);
    }
  }
  // Legend: a colored stroke and the series name, three per row under the axis.
  const colW = Math.floor((plotR - plotL) / 3);
  panel.series.forEach((s, i) => {
    const x = plotL + (i % 3) * colW;
    const y = plotB + 9 + 2 * (lineH + 4) + Math.floor(i / 3) * (lineH + 6);
    cv.line(x, y + lineH / 2, x + 30, y + lineH / 2, s.color, 3);
    cv.text(s.name, x + 38, y, AXIS, scale);
  });
}

/** The panels stacked vertically in one PNG. */
export function renderPanels(panels: Panel[], width = 1200, panelHeight = 340): Buffer {
  const cv = new Canvas(width, panelHeight * panels.length);
  panels.forEach((p, i) => drawPanel(cv, p, 10, i * panelHeight + 10, width - 20, panelHeight - 20));
  return cv.encodePng();
}
