/** RGB rasters with a built-in 5×7 font, and their PNG encoding (run plots, image fixtures, test images). */
import { PNG } from 'pngjs';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** White, the default background. */
export const WHITE: Rgb = [255, 255, 255];

/** An RGB raster with the few drawing operations the plot needs. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.pixels.length; i += 3) this.pixels.set(background, i);
  }

  /** Colours one pixel (ignored outside the image). */
  set(x: number, y: number, color: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(color, (y * this.width + x) * 3);
  }

  /** The colour of one pixel. */
  get(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.pixels[i]!, this.pixels[i + 1]!, this.pixels[i + 2]!];
  }

  /** A filled axis-aligned rectangle. */
  fill(x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
    for (let y = Math.round(y0); y <= Math.round(y1); y++) for (let x = Math.round(x0); x <= Math.round(x1); x++) this.set(x, y, color);
  }

  /** A straight line `thickness` pixels wide. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (thickness - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      if (thickness <= 1) this.set(x, y, color);
      else this.fill(x - r, y - r, x + r, y + r, color);
    }
  }

  /** Text in the built-in 5×7 font, `scale` pixels per font pixel; returns its width. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): number {
    let cursor = x;
    for (const char of text) {
      const glyph = FONT[char] ?? FONT['?']!;
      glyph.forEach((row, gy) => {
        for (let gx = 0; gx < 5; gx++)
          if (row[gx] === '#')
            this.fill(cursor + gx * scale, y + gy * scale, cursor + (gx + 1) * scale - 1, y + (gy + 1) * scale - 1, color);
      });
      cursor += 6 * scale;
    }
    return cursor - x - scale;
  }
}

/** Width in pixels of `text` drawn by `Raster.text`. */
export function textWidth(text: string, scale = 2): number {
  return text.length === 0 ? 0 : [...text].length * 6 * scale - scale;
}

const glyphs: Record<string, string> = {
  '0': '.###.|#...#|#..##|#.#.#|##..#|#...#|.###.',
  '1': '..#..|.##..|..#..|..#..|..#..|..#..|.###.',
  '2': '.###.|#...#|....#|...#.|..#..|.#...|#####',
  '3': '#####|...#.|..#..|...#.|....#|#...#|.###.',
  '4': '...#.|..##.|.#.#.|#..#.|#####|...#.|...#.',
  '5': '#####|#....|####.|....#|....#|#...#|.###.',
  '6': '..##.|.#...|#....|####.|#...#|#...#|.###.',
  '7': '#####|....#|...#.|..#..|.#...|.#...|.#...',
  '8': '.###.|#...#|#...#|.###.|#...#|#...#|.###.',
  '9': '.###.|#...#|#...#|.####|....#|...#.|.##..',
  '.': '.....|.....|.....|.....|.....|.##..|.##..',
  '-': '.....|.....|.....|#####|.....|.....|.....',
  ' ': '.....|.....|.....|.....|.....|.....|.....',
  '?': '.###.|#...#|....#|...#.|..#..|.....|..#..',
  a: '.....|.....|.###.|....#|.####|#...#|.####',
  c: '.....|.....|.###.|#....|#....|#...#|.###.',
  e: '.....|.....|.###.|#...#|#####|#....|.###.',
  h: '#....|#....|#.##.|##..#|#...#|#...#|#...#',
  i: '..#..|.....|.##..|..#..|..#..|..#..|.###.',
  l: '.##..|..#..|..#..|..#..|..#..|..#..|.###.',
  n: '.....|.....|#.##.|##..#|#...#|#...#|#...#',
  o: '.....|.....|.###.|#...#|#...#|#...#|.###.',
  p: '.....|.....|####.|#...#|####.|#....|#....',
  r: '.....|.....|#.##.|##..#|#....|#....|#....',
  s: '.....|.....|.###.|#....|.###.|....#|####.',
  t: '.#...|.#...|###..|.#...|.#...|.#..#|..##.',
  u: '.....|.....|#...#|#...#|#...#|#..##|.##.#',
  y: '.....|.....|#...#|#...#|.####|....#|.###.',
  b: '#....|#....|####.|#...#|#...#|#...#|####.',
  d: '....#|....#|.####|#...#|#...#|#...#|.####',
  f: '..##.|.#..#|.#...|###..|.#...|.#...|.#...',
  g: '.....|.####|#...#|#...#|.####|....#|.###.',
  j: '...#.|.....|..##.|...#.|...#.|#..#.|.##..',
  k: '#....|#....|#..#.|#.#..|##...|#.#..|#..#.',
  m: '.....|.....|##.#.|#.#.#|#.#.#|#...#|#...#',
  q: '.....|.....|.####|#...#|.####|....#|....#',
  v: '.....|.....|#...#|#...#|#...#|.#.#.|..#..',
  w: '.....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.',
  x: '.....|.....|#...#|.#.#.|..#..|.#.#.|#...#',
  z: '.....|.....|#####|...#.|..#..|.#...|#####',
  _: '.....|.....|.....|.....|.....|.....|#####',
  '/': '.....|....#|...#.|..#..|.#...|#....|.....',
  ':': '.....|.##..|.##..|.....|.##..|.##..|.....',
};
const FONT: Record<string, string[]> = Object.fromEntries(Object.entries(glyphs).map(([c, g]) => [c, g.split('|')]));

/** Encodes an RGB raster as a PNG (8-bit truecolour) with pngjs. */
export function encodePng(raster: Raster): Buffer {
  const { width, height, pixels } = raster;
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 9 });
}
