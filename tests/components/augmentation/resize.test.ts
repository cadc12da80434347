import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { resizedShape } from '../../../components/augmentation/resize.ts';
import { applyImage, imageStep, positionImages } from './helpers.ts';

test('one number sets the shorter side and keeps the aspect ratio; a pair is exact (torchvision Resize)', () => {
  assert.equal(resizedShape([300, 400, 3], 256), [256, 341, 3]);
  assert.equal(resizedShape([400, 300, 3], 256), [341, 256, 3]);
  assert.equal(resizedShape([300, 400, 3], [10, 20]), [10, 20, 3]);
  const step = imageStep({ type: 'resize', size: 4 });
  assert.equal(step.outputShape([8, 12, 3]), [4, 6, 3]);
  const out = applyImage(step, positionImages(2, 8, 12));
  assert.equal([out.length, out[0]!.length, out[0]![0]!.length, out[0]![0]![0]!.length], [2, 4, 6, 3]);
});

test('halving a linear ramp averages neighbours (half-pixel centres); a constant image stays constant', () => {
  const out = applyImage(imageStep({ type: 'resize', size: [4, 6] }), positionImages(1, 8, 12));
  // Output pixel (y, x) samples input (2y + 0.5, 2x + 0.5): 10·(2y + 0.5) + (2x + 0.5).
  assert.ok(Math.abs(out[0]![1]![2]![0]! - (10 * 2.5 + 4.5)) < 1e-3, `${out[0]![1]![2]![0]}`);
  const flat = applyImage(imageStep({ type: 'resize', size: 3 }), tf.fill([1, 7, 9, 3], 42) as tf.Tensor4D).flat(3);
  assert.ok(flat.every((v) => Math.abs(v - 42) < 1e-4));
});

test('deterministic, on both splits unless apply_to says otherwise', () => {
  const step = imageStep({ type: 'resize', size: 4 });
  assert.is(step.random, false);
  assert.is(step.applyTo, 'both');
  assert.is(imageStep({ type: 'resize', size: 4, apply_to: 'test' }).applyTo, 'test');
});

test.run();
