import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { ApplyToParam, SizeParam, squareSize, type ImageAugmentation, type ImageShape } from './augmentation.ts';

/** Top-left corner of a centred `[height, width]` crop (torchvision rounds half the margin). */
export function centerOffsets(shape: ImageShape, [height, width]: [number, number]): [number, number] {
  if (height > shape[0] || width > shape[1]) {
    throw new Error(`cannot crop ${height}×${width} out of ${shape[0]}×${shape[1]} images; resize them first or crop less`);
  }
  return [Math.round((shape[0] - height) / 2), Math.round((shape[1] - width) / 2)];
}

/** torchvision's CenterCrop: deterministic, on both splits unless apply_to says otherwise. */
export const centerCrop = defineComponent({
  name: 'center_crop',
  summary: 'Crops the centre of each image to size (one number for a square, or [height, width]).',
  params: Type.Object(
    { size: SizeParam('Crop size: one number for a square, or [height, width].'), apply_to: ApplyToParam },
    { additionalProperties: false },
  ),
  build(params): ImageAugmentation {
    const size = squareSize(params.size);
    return {
      kind: 'image',
      name: 'center_crop',
      random: false,
      applyTo: params.apply_to,
      visible: true,
      outputShape(shape) {
        centerOffsets(shape, size);
        return [size[0], size[1], shape[2]];
      },
      apply(images) {
        const [batch, height, width, channels] = images.shape;
        const [top, left] = centerOffsets([height, width, channels], size);
        return tf.slice(images, [0, top, left, 0], [batch, size[0], size[1], channels]);
      },
    };
  },
});
