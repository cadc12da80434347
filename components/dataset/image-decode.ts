import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** The image formats `image_folder` reads. */
export type ImageFormat = 'jpeg' | 'png';

/** Which decoder to use: TensorFlow's (native backend), the pure-JS one, or the native one when available. */
export type Decoder = 'auto' | 'native' | 'js';

/** Thrown for bytes that are not a decodable JPEG or PNG; the dataset turns it into a UserError naming the file. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** The format the file's first bytes announce, or undefined for anything else. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

interface NativeDecoders {
  decodeJpeg(
    contents: Uint8Array,
    channels: number,
    ratio: number,
    fancy: boolean,
    recover: boolean,
    fraction: number,
    dct: string,
  ): tf.Tensor3D;
  decodePng(contents: Uint8Array, channels: number): tf.Tensor3D;
}

/** TensorFlow's decoders when the native backend is active, else undefined. */
function nativeDecoders(): NativeDecoders | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<NativeDecoders>;
  return typeof backend.decodeJpeg === 'function' && typeof backend.decodePng === 'function' ? (backend as NativeDecoders) : undefined;
}

/** True when images will be decoded by TensorFlow (native backend) rather than in JavaScript. */
export function hasNativeDecoder(): boolean {
  return nativeDecoders() !== undefined;
}

/** Decodes a JPEG or PNG to an RGB tensor `[h, w, 3]` (int32, 0..255); alpha is dropped, grayscale expanded. */
export function decodeRgb(bytes: Uint8Array, decoder: Decoder = 'auto'): tf.Tensor3D {
  const format = sniffFormat(bytes);
  if (!format) {
    const start = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ImageDecodeError(`not a JPEG or PNG image (it starts with bytes ${start || '(none: the file is empty)'})`);
  }
  const native = decoder === 'js' ? undefined : nativeDecoders();
  if (decoder === 'native' && !native) throw new Error('the native image decoder needs the tensorflow backend');
  try {
    if (native) {
      return tf.tidy(() => {
        const image = format === 'jpeg' ? native.decodeJpeg(bytes, 3, 1, true, false, 1, '') : native.decodePng(bytes, 3);
        return tf.cast(image, 'int32');
      });
    }
    const { width, height, data } =
      format === 'jpeg'
        ? jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxMemoryUsageInMB: 1024 })
        : PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return tf.tidy(() => tf.slice(tf.tensor3d(new Int32Array(data), [height, width, 4], 'int32'), [0, 0, 0], [height, width, 3]));
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.replace(/\.$/, '');
    throw new ImageDecodeError(`not a valid ${format === 'jpeg' ? 'JPEG' : 'PNG'} image (${message})`, { cause: error });
  }
}

/** How an image is brought to the stored size: cover it and cut the centre (crop), or distort it (stretch). */
export type Fit = 'crop' | 'stretch';

/**
 * Resizes one decoded image to `[height, width]` as float pixels. `crop` scales the shorter side to
 * fit and cuts the centre (torchvision's Resize(n) + CenterCrop(n) for a square); `stretch` ignores
 * the aspect ratio. Large reductions average-pool first so the result is not aliased.
 */
export function fitImage(image: tf.Tensor3D, [height, width]: [number, number], fit: Fit): tf.Tensor3D {
  return tf.tidy(() => {
    const [h, w] = image.shape;
    let x = tf.cast(image, 'float32') as tf.Tensor3D;
    if (h === height && w === width) return x;
    let [targetH, targetW] = [height, width];
    if (fit === 'crop') {
      const scale = Math.max(height / h, width / w);
      [targetH, targetW] = [Math.max(height, Math.round(h * scale)), Math.max(width, Math.round(w * scale))];
    }
    const factor = Math.floor(Math.min(h / targetH, w / targetW));
    if (factor >= 2) x = tf.avgPool(x, factor, factor, 'valid');
    let resized = tf.image.resizeBilinear(x, [targetH, targetW], false, true);
    if (targetH !== height || targetW !== width) {
      const top = Math.round((targetH - height) / 2);
      const left = Math.round((targetW - width) / 2);
      resized = tf.slice(resized, [top, left, 0], [height, width, 3]);
    }
    return resized;
  });
}

/** Decodes and fits one image into `out` (uint8, `height·width·3` bytes). */
export function decodeInto(bytes: Uint8Array, out: Uint8Array, size: [number, number], fit: Fit, decoder: Decoder = 'auto'): void {
  const decoded = decodeRgb(bytes, decoder);
  // (tidy returns the tensor: a typed array returned from tidy would be walked element by element.)
  const fitted = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(fitImage(decoded, size, fit)), 0, 255), 'int32'));
  decoded.dispose();
  try {
    out.set(fitted.dataSync());
  } finally {
    fitted.dispose();
  }
}
