import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { defineComponent } from '../../runner/registry.ts';
import { Choice, SizeParam, squareSize, uniform, type ImageAugmentation, type Rng } from './augmentation.ts';

/** A crop window in pixels: rows top..top+height-1, columns left..left+width-1. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries of an area fraction in `scale` and a
 * log-uniform aspect ratio (width/height) in `ratio`; if none fits, the largest centred crop whose
 * ratio is clamped into `ratio`.
 */
export function sampleCropBox(height: number, width: number, scale: [number, number], ratio: [number, number], random: Rng): CropBox {
  const area = height * width;
  const [logLow, logHigh] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(random, scale[0], scale[1]);
    const aspect = Math.exp(uniform(random, logLow, logHigh));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let [w, h] = [width, height];
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Crops every image to its box and resizes the crops to `size` in one cropAndResize (corner-aligned sampling). */
export function cropAndResizeBoxes(
  images: tf.Tensor4D,
  boxes: CropBox[],
  size: [number, number],
  method: 'bilinear' | 'nearest' = 'bilinear',
): tf.Tensor4D {
  const [, height, width] = images.shape;
  const normalized = new Float32Array(boxes.length * 4);
  const scaleY = height > 1 ? 1 / (height - 1) : 0;
  const scaleX = width > 1 ? 1 / (width - 1) : 0;
  boxes.forEach((box, i) => {
    normalized.set([box.top * scaleY, box.left * scaleX, (box.top + box.height - 1) * scaleY, (box.left + box.width - 1) * scaleX], i * 4);
  });
  const boxIndices = tf.tensor1d(
    Int32Array.from(boxes, (_, i) => i),
    'int32',
  );
  return tf.image.cropAndResize(images, tf.tensor2d(normalized, [boxes.length, 4]), boxIndices, size, method);
}

/** torchvision's RandomResizedCrop: a random area and aspect ratio, resized to `size`. */
export const randomResizedCrop = defineComponent({
  name: 'random_resized_crop',
  summary: 'Crops a random area (scale) with a random aspect ratio (ratio) and resizes it to size (torchvision semantics).',
  params: Type.Object(
    {
      size: SizeParam('Output size: one number for a square, or [height, width].'),
      scale: Type.Tuple([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Number({ exclusiveMinimum: 0, maximum: 1 })], {
        default: [0.08, 1],
        description: 'Range of the crop area as a fraction of the image area.',
      }),
      ratio: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], {
        default: [3 / 4, 4 / 3],
        description: 'Range of the crop aspect ratio (width / height), sampled log-uniformly.',
      }),
      interpolation: Choice(['bilinear', 'nearest'], { default: 'bilinear', description: 'How the crop is resized.' }),
    },
    { additionalProperties: false },
  ),
  build(params): ImageAugmentation {
    const [scale, ratio] = [params.scale, params.ratio];
    if (scale[0] > scale[1] || ratio[0] > ratio[1]) {
      throw new UserError(
        `random_resized_crop: scale and ratio must be [low, high] ranges with low ≤ high (got scale ${scale}, ratio ${ratio}).`,
      );
    }
    const size = squareSize(params.size);
    return {
      kind: 'image',
      name: 'random_resized_crop',
      random: true,
      applyTo: 'train',
      visible: true,
      outputShape: ([, , channels]) => [size[0], size[1], channels],
      apply(images, random) {
        const [batch, height, width] = images.shape;
        const boxes = Array.from({ length: batch }, () => sampleCropBox(height, width, scale, ratio, random));
        return cropAndResizeBoxes(images, boxes, size, params.interpolation);
      },
    };
  },
});
