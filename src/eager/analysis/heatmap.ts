// The heatmap image of `nast analyze attention`: per encoder, one H×H panel per adjacent layer pair, first as
// the heads are numbered ("direct"), then with the upper layer's heads reordered by the best pairing
// ("aligned", the matched pairs on the diagonal). Colour: viridis-like ramp on a fixed 0..1 scale.
import { GLYPH_HEIGHT, textWidth } from "../../util/bitmap-font.ts";
import { Canvas, type Rgb } from "../../util/png-canvas.ts";
import type { LayerPairSimilarity } from "./similarity.ts";

const RAMP: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function colourOf(value: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i] as Rgb;
  const b = RAMP[i + 1] as Rgb;
  const mix = (k: 0 | 1 | 2): number => Math.round(a[k] + f * (b[k] - a[k]));
  return [mix(0), mix(1), mix(2)];
}

const INK: Rgb = [20, 20, 20];

const MARGIN = 16;
const GAP = 14;
const LABEL_W = 64;
const LINE = GLYPH_HEIGHT + 5;

export function renderSimilarityHeatmap(pairs: LayerPairSimilarity[], heads: number, title: string): Buffer {
  const cell = Math.max(6, Math.floor(96 / heads));
  const panel = cell * heads;
  const encoders = (["acoustic", "textual"] as const).filter((e) => pairs.some((p) => p.encoder === e));
  const maxPairs = Math.max(1, ...encoders.map((e) => pairs.filter((p) => p.encoder === e).length));
  const blockH = LINE + 2 * (LINE + panel + GAP);
  const width = Math.max(MARGIN * 2 + LABEL_W + maxPairs * (panel + GAP), MARGIN * 2 + textWidth(title, 2), 320);
  const height = MARGIN + 2 * LINE + encoders.length * blockH + 3 * LINE + MARGIN;
  const cv = new Canvas(width, height);
  cv.text(title, MARGIN, MARGIN, INK, 2);
  let y = MARGIN + 2 * LINE + 4;
  for (const enc of encoders) {
    cv.text(enc, MARGIN, y, INK, 1);
    y += LINE;
    const encPairs = pairs.filter((p) => p.encoder === enc);
    for (const mode of ["direct", "aligned"] as const) {
      cv.text(mode, MARGIN, y + LINE + Math.floor(panel / 2), INK, 1);
      encPairs.forEach((p, k) => {
        const x0 = MARGIN + LABEL_W + k * (panel + GAP);
        const value = mode === "direct" ? p.direct : p.aligned;
        cv.text(`${p.from}-${p.to}${p.toIsLisa ? "L" : ""} ${value.toFixed(2).replace(/^0/, "")}`, x0, y, INK, 1);
        for (let h = 0; h < heads; h++) {
          for (let g = 0; g < heads; g++) {
            const col = mode === "direct" ? g : (p.permutation[g] as number);
            // Row h: head h of the lower layer; column g: a head of the upper layer (reordered when aligned).
            cv.rect(x0 + g * cell, y + LINE + h * cell, cell, cell, colourOf(p.matrix[h]![col] as number));
          }
        }
      });
      y += LINE + panel + GAP;
    }
  }
  // Colour scale.
  const barW = Math.min(200, width - 2 * MARGIN - 40);
  for (let i = 0; i < barW; i++) cv.rect(MARGIN + 12 + i, y, 1, LINE, colourOf(i / (barW - 1)));
  cv.text("0", MARGIN, y + 3, INK, 1);
  cv.text("1", MARGIN + 16 + barW, y + 3, INK, 1);
  return cv.encodePng();
}
