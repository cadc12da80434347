import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../../runner/train/random.ts';
import { textStep } from './helpers.ts';

const rows = 16;
const ids = tf.tidy(() => {
  const words = tf.add(tf.range(0, rows * 40, 1, 'int32').reshape([rows, 40]), tf.scalar(2, 'int32'));
  return tf.concat([words, tf.zeros([rows, 9], 'int32')], 1); // 40 words then 9 pads
}) as tf.Tensor2D;
const input = ids.arraySync();

test('each token moves at most one place, by swapping with a neighbour; padding stays', () => {
  const out = tf.tidy(() => textStep({ type: 'random_swap', rate: 0.5 }).apply(ids, seededRandom(6)).arraySync());
  let swaps = 0;
  out.forEach((row, r) => {
    assert.equal(
      [...row].sort((a, b) => a - b),
      [...input[r]!].sort((a, b) => a - b),
      'same tokens',
    );
    assert.equal(row.slice(40), new Array(9).fill(0), 'padding untouched');
    for (let i = 0; i < 49; i++) {
      if (row[i] === input[r]![i]) continue;
      assert.is(row[i], input[r]![i + 1], `position ${i} takes its right neighbour`);
      assert.is(row[i + 1], input[r]![i], 'and gives it its own token');
      swaps++;
      i++;
    }
  });
  const share = swaps / (rows * 20);
  assert.ok(share > 0.35 && share < 0.65, `swapped ${share} of the pairs`);
});

test('rate 1 swaps every pair of the chosen parity; rate 0 is the identity; seeded', () => {
  const all = tf.tidy(() => textStep({ type: 'random_swap', rate: 1 }).apply(ids, seededRandom(2)).arraySync());
  all.forEach((row, r) => {
    const moved = row.slice(0, 40).filter((t, i) => t !== input[r]![i]).length;
    assert.ok(moved === 40 || moved === 38, `${moved} of 40 words moved`);
  });
  assert.equal(
    tf.tidy(() => textStep({ type: 'random_swap', rate: 0 }).apply(ids, seededRandom(2)).arraySync()),
    input,
  );
  const step = textStep({ type: 'random_swap', rate: 0.3 });
  assert.equal(
    tf.tidy(() => step.apply(ids, seededRandom(9)).arraySync()),
    tf.tidy(() => step.apply(ids, seededRandom(9)).arraySync()),
  );
});

test.run();
