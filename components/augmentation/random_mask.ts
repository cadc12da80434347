import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { Probability, UNK_ID, type TextAugmentation } from './augmentation.ts';
import { tokenDraws } from './token_dropout.ts';

/** Replaces each token with `<unk>` with probability rate (training batches only); padding is never touched. */
export const randomMask = defineComponent({
  name: 'random_mask',
  summary: 'Replaces each token of a training text with <unk> with probability rate (padding untouched).',
  params: Type.Object({ rate: Probability('Probability that a token becomes <unk>.', 0.1) }, { additionalProperties: false }),
  build(params): TextAugmentation {
    return {
      kind: 'text',
      name: 'random_mask',
      random: true,
      apply(ids, random) {
        if (params.rate === 0) return ids;
        return tf.where(tokenDraws(ids, params.rate, random), tf.fill(ids.shape, UNK_ID, 'int32'), ids) as tf.Tensor2D;
      },
    };
  },
});
