import * as tf from '@tensorflow/tfjs';

/** Pixel values are in [0, MAX] before normalization. */
export const MAX = 255;

const perImage = (factors: readonly number[]) => tf.tensor4d(Float32Array.from(factors), [factors.length, 1, 1, 1]);
const clip = (x: tf.Tensor4D) => tf.clipByValue(x, 0, MAX);

/** ITU-R 601 luma `[b, h, w, 1]` of RGB images (torchvision's rgb_to_grayscale weights). */
export function grayscale(images: tf.Tensor4D): tf.Tensor4D {
  if (images.shape[3] === 1) return images;
  return tf.sum(tf.mul(images, tf.tensor1d([0.2989, 0.587, 0.114])), 3, true);
}

/** Multiplies each image by its factor (torchvision adjust_brightness), clipped to [0, 255]. */
export function adjustBrightness(images: tf.Tensor4D, factors: readonly number[]): tf.Tensor4D {
  return clip(tf.mul(images, perImage(factors)));
}

/** Blends each image with the mean of its grayscale version (torchvision adjust_contrast). */
export function adjustContrast(images: tf.Tensor4D, factors: readonly number[]): tf.Tensor4D {
  const mean = tf.mean(grayscale(images), [1, 2, 3], true);
  const f = perImage(factors);
  return clip(tf.add(tf.mul(images, f), tf.mul(mean, tf.sub(1, f))));
}

/** Blends each image with its grayscale version (torchvision adjust_saturation). */
export function adjustSaturation(images: tf.Tensor4D, factors: readonly number[]): tf.Tensor4D {
  const f = perImage(factors);
  return clip(tf.add(tf.mul(images, f), tf.mul(grayscale(images), tf.sub(1, f))));
}

/** RGB in [0, 1] → hue, saturation, value in [0, 1], each `[b, h, w, 1]` (torchvision _rgb2hsv). */
export function rgbToHsv(rgb: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [r, g, b] = tf.split(rgb, 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const maxc = tf.maximum(tf.maximum(r, g), b);
  const minc = tf.minimum(tf.minimum(r, g), b);
  const gray = tf.equal(maxc, minc);
  const range = tf.sub(maxc, minc);
  const ones = tf.onesLike(maxc);
  const saturation = tf.div(range, tf.where(gray, ones, maxc));
  const divisor = tf.where(gray, ones, range);
  const rc = tf.div(tf.sub(maxc, r), divisor);
  const gc = tf.div(tf.sub(maxc, g), divisor);
  const bc = tf.div(tf.sub(maxc, b), divisor);
  const isR = tf.equal(maxc, r);
  const isG = tf.logicalAnd(tf.equal(maxc, g), tf.logicalNot(isR));
  const isB = tf.logicalAnd(tf.logicalNot(isG), tf.logicalNot(isR));
  const hr = tf.mul(tf.cast(isR, 'float32'), tf.sub(bc, gc));
  const hg = tf.mul(tf.cast(isG, 'float32'), tf.add(tf.sub(rc, bc), 2));
  const hb = tf.mul(tf.cast(isB, 'float32'), tf.add(tf.sub(gc, rc), 4));
  const hue = tf.mod(tf.add(tf.div(tf.add(tf.add(hr, hg), hb), 6), 1), 1);
  return [hue as tf.Tensor4D, saturation as tf.Tensor4D, maxc as tf.Tensor4D];
}

/**
 * Hue, saturation, value in [0, 1] → RGB in [0, 1] `[b, h, w, 3]`: channel n ∈ (5, 3, 1) for (R, G, B)
 * is v − v·s·clip(min(k, 4 − k), 0, 1) with k = (n + 6h) mod 6 — the same values as torchvision's
 * sector-by-sector _hsv2rgb, in a few broadcast ops for all three channels.
 */
export function hsvToRgb(hue: tf.Tensor4D, saturation: tf.Tensor4D, value: tf.Tensor4D): tf.Tensor4D {
  const k = tf.mod(tf.add(tf.tensor1d([5, 3, 1]), tf.mul(hue, 6)), 6);
  const ramp = tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1);
  return tf.sub(value, tf.mul(tf.mul(value, saturation), ramp)) as tf.Tensor4D;
}

/** Rotates each image's hue by its shift (a fraction of the colour wheel, in [-0.5, 0.5]; torchvision adjust_hue). */
export function adjustHue(images: tf.Tensor4D, shifts: readonly number[]): tf.Tensor4D {
  const [h, s, v] = rgbToHsv(tf.div(images, MAX) as tf.Tensor4D);
  const shifted = tf.mod(tf.add(h, perImage(shifts)), 1) as tf.Tensor4D;
  return clip(tf.mul(hsvToRgb(shifted, s, v), MAX));
}
