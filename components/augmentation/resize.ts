import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ApplyToParam, Choice, SizeParam, type ImageAugmentation, type ImageShape, type SizeValue } from './augmentation.ts';

/** Output height and width of torchvision's Resize: a number sets the shorter side (aspect kept), a pair is exact. */
export function resizedShape([height, width, channels]: ImageShape, size: SizeValue): ImageShape {
  if (typeof size !== 'number') return [size[0], size[1], channels];
  if (height <= width) return [size, Math.floor((size * width) / height), channels];
  return [Math.floor((size * height) / width), size, channels];
}

/** Resizes whole batches with half-pixel centres (as torchvision/PIL do). */
export function resizeImages(images: tf.Tensor4D, [height, width]: [number, number], method: 'bilinear' | 'nearest'): tf.Tensor4D {
  if (images.shape[1] === height && images.shape[2] === width) return images;
  return method === 'bilinear'
    ? tf.image.resizeBilinear(images, [height, width], false, true)
    : tf.image.resizeNearestNeighbor(images, [height, width], false, true);
}

/** torchvision's Resize: deterministic, on both splits unless apply_to says otherwise. */
export const resize = defineComponent({
  name: 'resize',
  summary: 'Resizes images: one number sets the shorter side (aspect ratio kept), [height, width] is exact.',
  params: Type.Object(
    {
      size: SizeParam('Shorter side in pixels (aspect ratio kept), or [height, width].'),
      interpolation: Choice(['bilinear', 'nearest'], { default: 'bilinear', description: 'Resampling method.' }),
      apply_to: ApplyToParam,
    },
    { additionalProperties: false },
  ),
  build(params): ImageAugmentation {
    return {
      kind: 'image',
      name: 'resize',
      random: false,
      applyTo: params.apply_to,
      visible: true,
      outputShape: (shape) => resizedShape(shape, params.size),
      apply(images) {
        const [height, width] = resizedShape([images.shape[1], images.shape[2], images.shape[3]], params.size);
        return resizeImages(images, [height, width], params.interpolation);
      },
    };
  },
});
