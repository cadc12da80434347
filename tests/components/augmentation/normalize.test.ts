import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../runner/errors.ts';
import { applyImage, imageStep } from './helpers.ts';

const pixels = tf.tensor4d([0, 127.5, 255, 51, 102, 153], [2, 1, 1, 3]);

test('scale [-1, 1] maps 0 to -1 and 255 to 1 (MobileNet input)', () => {
  const out = applyImage(imageStep({ type: 'normalize', scale: [-1, 1] }), pixels).flat(3);
  [-1, 0, 1, -0.6, -0.2, 0.2].forEach((v, i) => assert.ok(Math.abs(out[i]! - v) < 1e-6, `${out[i]} vs ${v}`));
});

test('mean/std per channel in [0, 1] units: (x/255 - mean)/std', () => {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const out = applyImage(imageStep({ type: 'normalize', mean, std }), pixels).flat(3);
  const input = pixels.dataSync();
  out.forEach((v, i) => assert.ok(Math.abs(v - (input[i]! / 255 - mean[i % 3]!) / std[i % 3]!) < 1e-5));
});

test('needs mean and std or scale; not both, not neither; and one value per channel', () => {
  for (const params of [{}, { mean: [0.5] }, { mean: [0.5], std: [0.5], scale: [0, 1] }]) {
    assert.throws(
      () => imageStep({ type: 'normalize', ...params }),
      (e: Error) => e instanceof UserError && /either mean and std/.test(e.message),
    );
  }
  assert.throws(() => imageStep({ type: 'normalize', mean: [0.5, 0.5], std: [0.5] }), /one per channel/);
  assert.throws(() => imageStep({ type: 'normalize', mean: [0.5, 0.5], std: [0.5, 0.5] }).outputShape([4, 4, 3]), /3 channels/);
  const step = imageStep({ type: 'normalize', scale: [0, 1] });
  assert.equal([step.random, step.applyTo, step.visible], [false, 'both', false]);
});

test.run();
