import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { applyImage, imageStep, positionImages } from './helpers.ts';

const images = positionImages(32, 3, 5);
const original = images.arraySync();

test('p = 1 reverses the columns of every image and nothing else', () => {
  const out = applyImage(imageStep({ type: 'random_horizontal_flip', p: 1 }), images);
  out.forEach((image, b) => image.forEach((row, y) => assert.equal(row, [...original[b]![y]!].reverse())));
});

test('p = 0 is the identity', () => {
  assert.equal(applyImage(imageStep({ type: 'random_horizontal_flip', p: 0 }), images), original);
});

test('p = 0.5: each image is either unchanged or mirrored, both happen, and the seed fixes which', () => {
  const step = imageStep({ type: 'random_horizontal_flip' });
  const out = applyImage(step, images, 3);
  const flipped = out.map((image, b) => {
    const mirrored = original[b]!.map((row) => [...row].reverse());
    if (JSON.stringify(image) === JSON.stringify(mirrored)) return true;
    assert.equal(image, original[b], `image ${b} is neither unchanged nor mirrored`);
    return false;
  });
  const count = flipped.filter(Boolean).length;
  assert.ok(count > 4 && count < 28, `${count} of 32 flipped`);
  assert.equal(applyImage(step, images, 3), out);
  assert.not.equal(applyImage(step, images, 4), out);
});

test('keeps the shape and leaks no tensors', () => {
  const step = imageStep({ type: 'random_horizontal_flip' });
  assert.equal(step.outputShape([3, 5, 3]), [3, 5, 3]);
  assert.is(step.random, true);
  const before = tf.memory().numTensors;
  applyImage(step, images);
  assert.is(tf.memory().numTensors, before);
});

test.run();
