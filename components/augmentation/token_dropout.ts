import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { PAD_ID, Probability, seedFrom, type Rng, type TextAugmentation } from './augmentation.ts';

/** A `[batch, length]` mask: true where a uniform draw falls below `rate` on a real (non-pad) token. */
export function tokenDraws(ids: tf.Tensor2D, rate: number, random: Rng): tf.Tensor2D {
  const draws = tf.randomUniform(ids.shape, 0, 1, 'float32', seedFrom(random));
  return tf.logicalAnd(tf.less(draws, rate), tf.notEqual(ids, PAD_ID)) as tf.Tensor2D;
}

/**
 * Removes the tokens where `drop` is true; the rest keep their order and move left, and the freed
 * positions at the end become `<pad>`. One top-k over "keep" keys does the compaction for the batch.
 */
export function dropTokens(ids: tf.Tensor2D, drop: tf.Tensor2D): tf.Tensor2D {
  const length = ids.shape[1];
  const keep = tf.logicalAnd(tf.logicalNot(drop), tf.notEqual(ids, PAD_ID));
  // Kept tokens get keys length..1 (earlier = larger), the rest -1: sorting by key compacts them in order.
  const position = tf.range(length, 0, -1, 'float32').expandDims(0);
  const keys = tf.where(keep, tf.broadcastTo(position, ids.shape), tf.fill(ids.shape, -1));
  const { values, indices } = tf.topk(keys, length, true);
  const moved = tf.gather(ids, indices, 1, 1);
  return tf.where(tf.greater(values, 0), moved, tf.zerosLike(moved)) as tf.Tensor2D;
}

/** Drops each token with probability rate (training batches only); padding fills the end. */
export const tokenDropout = defineComponent({
  name: 'token_dropout',
  summary: 'Removes each token of a training text with probability rate; later tokens move up, padding fills the end.',
  params: Type.Object({ rate: Probability('Probability that a token is removed.', 0.1) }, { additionalProperties: false }),
  build(params): TextAugmentation {
    return {
      kind: 'text',
      name: 'token_dropout',
      random: true,
      apply: (ids, random) => (params.rate === 0 ? ids : dropTokens(ids, tokenDraws(ids, params.rate, random))),
    };
  },
});
