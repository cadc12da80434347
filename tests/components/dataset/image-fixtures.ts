import jpeg from 'jpeg-js';
import { encodePng, Raster } from '../../../runner/common/png.ts';
import { writeTree } from '../../helpers/files.ts';

/** RGB pixels of a synthetic `height × width` image: class 0 a red ramp across, class 1 a blue ramp down; `seed` shifts it. */
export function syntheticPixels(height: number, width: number, label: number, seed: number): Uint8Array {
  const pixels = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const t = label === 0 ? x / Math.max(1, width - 1) : y / Math.max(1, height - 1);
      pixels[i] = label === 0 ? 60 + 180 * t : 30 + ((seed * 7) % 40);
      pixels[i + 1] = 40 + ((seed * 13 + x + y) % 50);
      pixels[i + 2] = label === 1 ? 60 + 180 * t : 30 + ((seed * 5) % 40);
    }
  }
  return pixels;
}

/** PNG bytes of RGB pixels. */
export function pngBytes(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const raster = new Raster(width, height);
  raster.pixels.set(pixels);
  return encodePng(raster);
}

/** JPEG bytes of RGB pixels (jpeg-js encoder). */
export function jpegBytes(pixels: Uint8Array, width: number, height: number, quality = 95): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

/** The files of a small two-class image dataset: `<prefix>{train,test}/{cats,dogs}/NN.{png,jpg}` (PNG and JPEG mixed). */
export function imageDatasetFiles(
  options: { perClass?: number; height?: number; width?: number; prefix?: string } = {},
): Record<string, Uint8Array> {
  const { perClass = 4, height = 12, width = 16, prefix = '' } = options;
  const files: Record<string, Uint8Array> = {};
  for (const split of ['train', 'test']) {
    ['cats', 'dogs'].forEach((label, l) => {
      for (let n = 0; n < perClass; n++) {
        const pixels = syntheticPixels(height, width, l, n + (split === 'test' ? 100 : 0));
        const png = n % 2 === 0;
        files[`${prefix}${split}/${label}/${String(n).padStart(2, '0')}.${png ? 'png' : 'jpg'}`] = png
          ? pngBytes(pixels, width, height)
          : jpegBytes(pixels, width, height);
      }
    });
  }
  return files;
}

/** Writes the files under `root` and returns it. */
export function writeImageDataset(root: string, files: Record<string, Uint8Array>): string {
  return writeTree(root, files);
}
