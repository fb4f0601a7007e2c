// An RGBA drawing surface for the PNG images of `nast plot` (src/train/plot.ts) and `nast analyze`
// (src/eager/analysis/heatmap.ts): white background, pixels, rectangles, lines and 5×7 bitmap text
// (bitmap-font.ts), encoded with pngjs, so the images need no font files or graphics libraries.
import { PNG } from "pngjs";
import { drawText } from "./bitmap-font.ts";

export type Rgb = readonly [number, number, number];

export class Canvas {
  readonly data: Buffer;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  /** One pixel; coordinates are rounded, pixels outside the canvas are dropped. */
  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
    this.data[i + 3] = 255;
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }

  /** A line of the given thickness (Bresenham-style stepping along the longer axis). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    const r = Math.floor(thickness / 2);
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let dx = -r; dx <= thickness - 1 - r; dx++) for (let dy = -r; dy <= thickness - 1 - r; dy++) this.set(x + dx, y + dy, c);
    }
  }

  text(s: string, x: number, y: number, c: Rgb, scale = 1): void {
    drawText(s, x, y, scale, (px, py) => this.set(px, py, c));
  }

  /** The image as PNG file bytes. */
  encodePng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    this.data.copy(png.data);
    return PNG.sync.write(png);
  }
}
