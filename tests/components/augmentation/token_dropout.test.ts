import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { dropTokens } from '../../../components/augmentation/token_dropout.ts';
import { seededRandom } from '../../../runner/train/random.ts';
import { textStep } from './helpers.ts';

// Token ids ≥ 2 are words; 0 is <pad>.
const ids = tf.tensor2d(
  [
    [5, 6, 7, 8, 9, 0, 0, 0],
    [2, 3, 4, 5, 6, 7, 8, 9],
    [4, 0, 0, 0, 0, 0, 0, 0],
  ],
  [3, 8],
  'int32',
);

test('dropping moves the kept tokens up in order and pads the end', () => {
  const drop = tf.tensor2d(
    [
      [0, 1, 0, 1, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0, 0, 1],
      [1, 0, 0, 0, 0, 0, 0, 0],
    ],
    [3, 8],
    'bool',
  ) as tf.Tensor2D;
  assert.equal(
    tf.tidy(() => dropTokens(ids as tf.Tensor2D, drop).arraySync()),
    [
      [5, 7, 9, 0, 0, 0, 0, 0],
      [3, 4, 5, 6, 7, 8, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ],
  );
});

test('rate: about that share of the words goes, the rest keep their order; rate 0 is the identity; seeded', () => {
  const long = tf.tidy(() => tf.add(tf.range(0, 4000, 1, 'int32').reshape([8, 500]).mod(50), tf.scalar(2, 'int32'))) as tf.Tensor2D;
  const step = textStep({ type: 'token_dropout', rate: 0.3 });
  const out = tf.tidy(() => step.apply(long, seededRandom(4)).arraySync());
  const input = long.arraySync();
  out.forEach((row, r) => {
    const kept = row.filter((t) => t !== 0);
    const share = 1 - kept.length / 500;
    assert.ok(share > 0.22 && share < 0.38, `dropped ${share}`);
    assert.equal(row.slice(kept.length), new Array(500 - kept.length).fill(0), 'padding only at the end');
    let j = 0; // kept tokens are a subsequence of the input
    for (const t of kept) {
      while (input[r]![j] !== t) j++;
      j++;
    }
    assert.ok(j <= 500);
  });
  assert.equal(
    tf.tidy(() => step.apply(long, seededRandom(4)).arraySync()),
    out,
  );
  assert.equal(
    tf.tidy(() => textStep({ type: 'token_dropout', rate: 0 }).apply(long, seededRandom(4)).arraySync()),
    input,
  );
});

test.run();
