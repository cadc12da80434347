import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { sampleCropBox } from '../../../components/augmentation/random_resized_crop.ts';
import { seededRandom } from '../../../runner/train/random.ts';
import { imageStep, positionImages } from './helpers.ts';

test('sampled boxes stay inside the image and within the scale and ratio bounds', () => {
  const random = seededRandom(5);
  const [height, width] = [60, 80];
  const scale: [number, number] = [0.08, 1];
  const ratio: [number, number] = [3 / 4, 4 / 3];
  let smallest = Infinity;
  let largest = 0;
  for (let i = 0; i < 2000; i++) {
    const box = sampleCropBox(height, width, scale, ratio, random);
    assert.ok(box.top >= 0 && box.left >= 0, `box ${JSON.stringify(box)} starts outside`);
    assert.ok(box.top + box.height <= height && box.left + box.width <= width, `box ${JSON.stringify(box)} ends outside`);
    const area = (box.height * box.width) / (height * width);
    // Rounding width and height to pixels moves the area and ratio a little off the drawn values.
    const slack = (box.height + box.width + 1) / (height * width);
    assert.ok(area >= scale[0] - slack && area <= scale[1] + slack, `area fraction ${area}`);
    const r = box.width / box.height;
    assert.ok(
      r >= ratio[0] * (1 - 1 / box.height) - 1e-9 && r <= ratio[1] * (1 + 1 / box.height) + 1e-9,
      `ratio ${r} of ${JSON.stringify(box)}`,
    );
    smallest = Math.min(smallest, area);
    largest = Math.max(largest, area);
  }
  assert.ok(smallest < 0.12 && largest > 0.9, `areas ranged ${smallest}..${largest}`);
});

test('when no draw fits, the fallback is the largest centred crop with the ratio clamped (torchvision)', () => {
  // A 10×100 strip with ratio ≤ 2: no 10-try draw fits, so the crop is 10 high and 20 wide, centred.
  const box = sampleCropBox(10, 100, [0.9, 1], [1, 2], seededRandom(1));
  assert.equal(box, { top: 0, left: 40, height: 10, width: 20 });
});

test('each output image is its box resized: the corners are the box corners, the size is `size`', () => {
  const images = positionImages(8, 20, 30);
  const step = imageStep({ type: 'random_resized_crop', size: [12, 16], scale: [0.2, 1] });
  assert.equal(step.outputShape([20, 30, 3]), [12, 16, 3]);
  const out = tf.tidy(() => step.apply(images, seededRandom(9)).arraySync());
  const replay = seededRandom(9);
  out.forEach((image, b) => {
    const box = sampleCropBox(20, 30, [0.2, 1], [3 / 4, 4 / 3], replay);
    const at = (y: number, x: number) => 100 * b + 10 * y + x;
    assert.equal(image.length, 12);
    assert.equal(image[0]!.length, 16);
    const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-3, `${actual} vs ${expected}`);
    close(image[0]![0]![0]!, at(box.top, box.left));
    close(image[11]![15]![0]!, at(box.top + box.height - 1, box.left + box.width - 1));
    close(image[0]![15]![2]!, at(box.top, box.left + box.width - 1) + 0.2);
    const values = image.flat(2);
    assert.ok(
      Math.min(...values) >= at(box.top, box.left) - 1e-3 &&
        Math.max(...values) <= at(box.top + box.height - 1, box.left + box.width - 1) + 0.2 + 1e-3,
    );
  });
  images.dispose();
});

test('same seed, same crops; another seed, other crops', () => {
  const images = positionImages(4, 16, 16);
  const step = imageStep({ type: 'random_resized_crop', size: 8 });
  const run = (seed: number) => tf.tidy(() => step.apply(images, seededRandom(seed)).arraySync());
  assert.equal(run(2), run(2));
  assert.not.equal(run(2), run(3));
  images.dispose();
});

test('scale and ratio must be ordered ranges', () => {
  assert.throws(() => imageStep({ type: 'random_resized_crop', size: 8, scale: [0.9, 0.1] }), /low ≤ high/);
});

test.run();
