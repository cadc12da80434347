import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { PAD_ID, Probability, seedFrom, type Rng, type TextAugmentation } from './augmentation.ts';

/**
 * Swaps neighbouring tokens: each text is cut into adjacent pairs (starting at position 0 or 1,
 * drawn per text) and each pair of two real tokens is swapped with probability `rate`. Pairs never
 * overlap, so every token moves at most one place and the multiset of tokens is unchanged.
 */
export function swapPairs(ids: tf.Tensor2D, rate: number, random: Rng): tf.Tensor2D {
  const [batch, length] = ids.shape;
  if (length < 2) return ids;
  const position = tf.range(0, length, 1, 'int32').expandDims(0);
  const offset = tf.tensor2d(
    Int32Array.from({ length: batch }, () => (random() < 0.5 ? 0 : 1)),
    [batch, 1],
    'int32',
  );
  const startsPair = tf.cast(tf.equal(tf.mod(tf.add(position, offset), 2), 0), 'int32');
  const real = tf.cast(tf.notEqual(ids, PAD_ID), 'int32');
  const nextReal = tf.pad(tf.slice(real, [0, 1], [batch, length - 1]), [
    [0, 0],
    [0, 1],
  ]);
  const draws = tf.cast(tf.less(tf.randomUniform([batch, length], 0, 1, 'float32', seedFrom(random)), rate), 'int32');
  // 1 where a pair starts and is swapped (int32 products: TensorFlow 2.21 cannot concatenate bool tensors).
  const swapFirst = tf.mul(tf.mul(startsPair, draws), tf.mul(real, nextReal));
  const swapSecond = tf.pad(tf.slice(swapFirst, [0, 0], [batch, length - 1]), [
    [0, 0],
    [1, 0],
  ]);
  const source = tf.sub(tf.add(position, swapFirst), swapSecond);
  return tf.gather(ids, source, 1, 1) as tf.Tensor2D;
}

/** Swaps adjacent tokens with probability rate (training batches only). */
export const randomSwap = defineComponent({
  name: 'random_swap',
  summary: 'Swaps non-overlapping pairs of neighbouring tokens of a training text, each pair with probability rate.',
  params: Type.Object(
    { rate: Probability('Probability that a pair of neighbouring tokens is swapped.', 0.1) },
    { additionalProperties: false },
  ),
  build(params): TextAugmentation {
    return {
      kind: 'text',
      name: 'random_swap',
      random: true,
      apply: (ids, random) => (params.rate === 0 ? ids : swapPairs(ids, params.rate, random)),
    };
  },
});
