import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { applyImage, imageStep, positionImages } from './helpers.ts';

test('cuts the centre: offsets round half the margin, values are the original pixels', () => {
  const images = positionImages(2, 7, 10);
  const original = images.arraySync();
  const step = imageStep({ type: 'center_crop', size: [3, 4] });
  assert.equal(step.outputShape([7, 10, 3]), [3, 4, 3]);
  const out = applyImage(step, images);
  // top = round((7 - 3) / 2) = 2, left = round((10 - 4) / 2) = 3
  out.forEach((image, b) => image.forEach((row, y) => assert.equal(row, original[b]![y + 2]!.slice(3, 7))));
});

test('a square size, and a crop larger than the image is an error that says so', () => {
  const step = imageStep({ type: 'center_crop', size: 5 });
  assert.equal(step.outputShape([6, 8, 3]), [5, 5, 3]);
  assert.throws(() => step.outputShape([4, 8, 3]), /cannot crop 5×5 out of 4×8/);
});

test.run();
