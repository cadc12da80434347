import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../../runner/train/random.ts';
import { textStep } from './helpers.ts';

test('masked tokens become <unk> (1), padding never does, about `rate` of the words are masked', () => {
  const ids = tf.tidy(() => tf.concat([tf.fill([4, 300], 7, 'int32'), tf.zeros([4, 100], 'int32')], 1)) as tf.Tensor2D;
  const out = tf.tidy(() => textStep({ type: 'random_mask', rate: 0.2 }).apply(ids, seededRandom(3)).arraySync());
  for (const row of out) {
    assert.ok(
      row.slice(300).every((t) => t === 0),
      'padding untouched',
    );
    assert.ok(row.slice(0, 300).every((t) => t === 7 || t === 1));
    const share = row.filter((t) => t === 1).length / 300;
    assert.ok(share > 0.13 && share < 0.27, `masked ${share}`);
  }
  assert.equal(
    tf.tidy(() => textStep({ type: 'random_mask', rate: 0.2 }).apply(ids, seededRandom(3)).arraySync()),
    out,
  );
  assert.equal(
    tf.tidy(() => textStep({ type: 'random_mask', rate: 1 }).apply(ids, seededRandom(3)).arraySync())[0]!.slice(0, 300),
    new Array(300).fill(1),
  );
});

test.run();
