import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { Probability, type ImageAugmentation } from './augmentation.ts';
import { randomFlip } from './random_horizontal_flip.ts';

/** Flips images upside down with probability p (torchvision RandomVerticalFlip). */
export const randomVerticalFlip = defineComponent({
  name: 'random_vertical_flip',
  summary: 'Flips each training image upside down with probability p (rows reversed).',
  params: Type.Object({ p: Probability('Probability that an image is flipped.', 0.5) }, { additionalProperties: false }),
  build(params): ImageAugmentation {
    return {
      kind: 'image',
      name: 'random_vertical_flip',
      random: true,
      applyTo: 'train',
      visible: true,
      outputShape: (shape) => shape,
      apply: (images, random) => randomFlip(images, 1, params.p, random),
    };
  },
});
