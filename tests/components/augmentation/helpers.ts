import * as tf from '@tensorflow/tfjs';
import { augmentations } from '../../../components/augmentation/index.ts';
import type { ImageAugmentation, TextAugmentation } from '../../../components/augmentation/augmentation.ts';
import { seededRandom } from '../../../runner/train/random.ts';

const context = { configDir: '.', warn() {} };

/** Builds an image step by config, as `data.augmentation` would. */
export function imageStep(config: { type: string } & Record<string, unknown>): ImageAugmentation {
  const step = augmentations.build(config, context);
  if (step.kind !== 'image') throw new Error(`${config.type} is not an image step`);
  return step;
}

/** Builds a text step by config. */
export function textStep(config: { type: string } & Record<string, unknown>): TextAugmentation {
  const step = augmentations.build(config, context);
  if (step.kind !== 'text') throw new Error(`${config.type} is not a text step`);
  return step;
}

/** Applies a step to `images` with a PRNG seeded by `seed`, returning plain nested arrays. */
export function applyImage(step: ImageAugmentation, images: tf.Tensor4D, seed = 1): number[][][][] {
  return tf.tidy(() => step.apply(images, seededRandom(seed)).arraySync());
}

/** A batch whose pixel (b, y, x, c) is 100·b + 10·y + x + c/10: every position is recognisable. */
export function positionImages(batch: number, height: number, width: number, channels = 3): tf.Tensor4D {
  return tf.tidy(() => {
    const b = tf.range(0, batch).reshape([batch, 1, 1, 1]).mul(100);
    const y = tf.range(0, height).reshape([1, height, 1, 1]).mul(10);
    const x = tf.range(0, width).reshape([1, 1, width, 1]);
    const c = tf.range(0, channels).reshape([1, 1, 1, channels]).div(10);
    return b.add(y).add(x).add(c) as tf.Tensor4D;
  });
}

/** Random RGB pixels in [0, 255] (seeded). */
export function randomImages(batch: number, height: number, width: number, seed = 7): tf.Tensor4D {
  return tf.randomUniform([batch, height, width, 3], 0, 255, 'float32', seed) as tf.Tensor4D;
}
