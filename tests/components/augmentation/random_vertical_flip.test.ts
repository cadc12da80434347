import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { applyImage, imageStep, positionImages } from './helpers.ts';

const images = positionImages(16, 4, 3);
const original = images.arraySync();

test('p = 1 reverses the rows of every image', () => {
  const out = applyImage(imageStep({ type: 'random_vertical_flip', p: 1 }), images);
  out.forEach((image, b) => assert.equal(image, [...original[b]!].reverse()));
});

test('p = 0.5: each image is unchanged or upside down; same seed, same choice', () => {
  const step = imageStep({ type: 'random_vertical_flip', p: 0.5 });
  const out = applyImage(step, images, 11);
  let flipped = 0;
  out.forEach((image, b) => {
    if (JSON.stringify(image) === JSON.stringify([...original[b]!].reverse())) flipped++;
    else assert.equal(image, original[b]);
  });
  assert.ok(flipped > 0 && flipped < 16, `${flipped} of 16 flipped`);
  assert.equal(applyImage(step, images, 11), out);
});

test.run();
