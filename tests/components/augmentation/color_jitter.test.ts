import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { adjustHue, hsvToRgb, rgbToHsv } from '../../../components/augmentation/color.ts';
import { factorRange, hueRange } from '../../../components/augmentation/color_jitter.ts';
import { seededRandom } from '../../../runner/train/random.ts';
import { applyImage, imageStep, randomImages } from './helpers.ts';

const constant = (value: number, batch = 16) => tf.fill([batch, 4, 4, 3], value) as tf.Tensor4D;

test('factors are read as torchvision does', () => {
  assert.equal(factorRange(0.4, 'brightness'), [0.6, 1.4]);
  assert.equal(factorRange(2, 'brightness'), [0, 3]);
  assert.equal(factorRange([0.5, 0.7], 'contrast'), [0.5, 0.7]);
  assert.is(factorRange(0, 'saturation'), undefined);
  assert.equal(hueRange(0.1), [-0.1, 0.1]);
  assert.throws(() => hueRange([-0.6, 0.1]), /\[-0.5, 0.5\]/);
  assert.throws(() => factorRange([2, 1], 'contrast'), /low ≤ high/);
});

test('brightness multiplies every pixel of an image by one factor within [1 - b, 1 + b]', () => {
  const out = applyImage(imageStep({ type: 'color_jitter', brightness: 0.5 }), constant(100), 4);
  const factors = out.map((image) => image[0]![0]![0]! / 100);
  for (const [b, image] of out.entries()) {
    for (const v of image.flat(2)) assert.ok(Math.abs(v - 100 * factors[b]!) < 1e-3, 'one factor per image');
  }
  assert.ok(
    factors.every((f) => f >= 0.5 - 1e-6 && f <= 1.5 + 1e-6),
    `factors ${factors}`,
  );
  assert.ok(new Set(factors.map((f) => f.toFixed(4))).size > 8, 'factors differ between images');
  const fixed = applyImage(imageStep({ type: 'color_jitter', brightness: [1.5, 1.5] }), constant(100, 2));
  assert.ok(Math.abs(fixed[0]![1]![2]![1]! - 150) < 1e-3);
  const clipped = applyImage(imageStep({ type: 'color_jitter', brightness: [3, 3] }), constant(100, 1));
  assert.is(clipped[0]![0]![0]![0], 255, 'results are clipped to [0, 255]');
});

test('contrast scales the deviation from the grey mean by a factor within [1 - c, 1 + c]', () => {
  const images = tf.tidy(() => tf.add(tf.mul(randomImages(12, 8, 8, 3), 0.5), 64) as tf.Tensor4D); // in [64, 192): no clipping
  const before = images.arraySync();
  const out = applyImage(imageStep({ type: 'color_jitter', contrast: 0.3 }), images, 8);
  out.forEach((image, b) => {
    const x = before[b]!.flat(2);
    const y = image.flat(2);
    const grey = (img: number[][][]) => img.flat().reduce((s, p) => s + 0.2989 * p[0]! + 0.587 * p[1]! + 0.114 * p[2]!, 0) / 64;
    const mean = grey(before[b]!);
    const factor = (y[0]! - mean) / (x[0]! - mean);
    assert.ok(factor >= 0.7 - 1e-3 && factor <= 1.3 + 1e-3, `factor ${factor}`);
    y.forEach((v, i) => assert.ok(Math.abs(v - (mean + factor * (x[i]! - mean))) < 0.05, 'one factor per image'));
  });
  images.dispose();
});

test('saturation leaves grey images unchanged and moves colours towards or away from grey', () => {
  const grey = constant(90, 8);
  // (torchvision's luma weights sum to 0.9999, so grey comes back within 0.01%.)
  applyImage(imageStep({ type: 'color_jitter', saturation: 0.9 }), grey)
    .flat(3)
    .forEach((v) => assert.ok(Math.abs(v - 90) < 0.01, `${v}`));
  const red = tf.tensor4d([200, 40, 40], [1, 1, 1, 3]);
  const desaturated = applyImage(imageStep({ type: 'color_jitter', saturation: [0, 0] }), red)[0]![0]![0]!;
  const luma = 0.2989 * 200 + 0.587 * 40 + 0.114 * 40;
  desaturated.forEach((v) => assert.ok(Math.abs(v - luma) < 1e-3));
});

test('hue: RGB → HSV → RGB is the identity; a shift of 1/3 turns red into green, −1/3 into blue', () => {
  const images = tf.tidy(() => tf.div(randomImages(4, 6, 6, 5), 255) as tf.Tensor4D);
  const roundTrip = tf.tidy(() => hsvToRgb(...rgbToHsv(images)));
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(roundTrip, images))).dataSync()[0]!) < 1e-5);
  const red = tf.tensor4d([255, 0, 0, 255, 0, 0], [2, 1, 1, 3]);
  const shifted = tf.tidy(() => adjustHue(red, [1 / 3, -1 / 3]).arraySync());
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-2);
  assert.ok(near(shifted[0]![0]![0]!, [0, 255, 0]), `${shifted[0]![0]![0]}`);
  assert.ok(near(shifted[1]![0]![0]!, [0, 0, 255]), `${shifted[1]![0]![0]}`);
  // A hue shift keeps value (max channel) and saturation.
  const out = applyImage(imageStep({ type: 'color_jitter', hue: 0.5 }), tf.mul(images, 255) as tf.Tensor4D, 2);
  const [, s0, v0] = rgbToHsv(images);
  const [, s1, v1] = rgbToHsv(tf.div(tf.tensor4d(out), 255) as tf.Tensor4D);
  assert.ok(tf.max(tf.abs(tf.sub(v0, v1))).dataSync()[0]! < 1e-4);
  assert.ok(tf.max(tf.abs(tf.sub(s0, s1))).dataSync()[0]! < 1e-3);
});

test('all four together: values stay in [0, 255], the same seed gives the same output', () => {
  const images = randomImages(8, 5, 5);
  const step = imageStep({ type: 'color_jitter', brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 });
  const a = applyImage(step, images, 21).flat(3);
  assert.ok(Math.min(...a) >= 0 && Math.max(...a) <= 255);
  assert.equal(applyImage(step, images, 21).flat(3), a);
  assert.not.equal(applyImage(step, images, 22).flat(3), a);
  assert.throws(() => step.outputShape([5, 5, 1]), /RGB/);
  const before = tf.memory().numTensors;
  tf.tidy(() => step.apply(images, seededRandom(1))).dispose();
  assert.is(tf.memory().numTensors, before);
});

test.run();
