import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { Probability, type ImageAugmentation, type Rng } from './augmentation.ts';

/**
 * Reverses `axis` (1: rows, 2: columns) of each image of the batch with probability `p`; one draw
 * per image, applied with one `where` over the batch.
 */
export function randomFlip(images: tf.Tensor4D, axis: 1 | 2, p: number, random: Rng): tf.Tensor4D {
  const batch = images.shape[0];
  const flags = Array.from({ length: batch }, () => random() < p);
  const flipped = flags.filter(Boolean).length;
  if (flipped === 0) return images;
  if (flipped === batch) return tf.reverse(images, axis);
  const mask = tf.tensor4d(Uint8Array.from(flags, Number), [batch, 1, 1, 1], 'bool');
  return tf.where(mask, tf.reverse(images, axis), images);
}

/** Mirrors images left-right with probability p (torchvision RandomHorizontalFlip). */
export const randomHorizontalFlip = defineComponent({
  name: 'random_horizontal_flip',
  summary: 'Mirrors each training image left-right with probability p (columns reversed).',
  params: Type.Object({ p: Probability('Probability that an image is flipped.', 0.5) }, { additionalProperties: false }),
  build(params): ImageAugmentation {
    return {
      kind: 'image',
      name: 'random_horizontal_flip',
      random: true,
      applyTo: 'train',
      visible: true,
      outputShape: (shape) => shape,
      apply: (images, random) => randomFlip(images, 2, params.p, random),
    };
  },
});
