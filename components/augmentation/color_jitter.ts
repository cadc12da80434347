import type * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { defineComponent } from '../../runner/registry.ts';
import { uniform, type ImageAugmentation, type Rng } from './augmentation.ts';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color.ts';

const Factor = (description: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })])], {
    default: 0,
    description,
  });

/** A jitter amount as torchvision reads it: f → [max(0, 1 − f), 1 + f]; [low, high] as given. */
export function factorRange(value: number | [number, number], name: string): [number, number] | undefined {
  const range: [number, number] = typeof value === 'number' ? [Math.max(0, 1 - value), 1 + value] : value;
  if (range[0] > range[1]) throw new UserError(`color_jitter: ${name} must be [low, high] with low ≤ high (got ${value}).`);
  return range[0] === 1 && range[1] === 1 ? undefined : range;
}

/** The hue amount as torchvision reads it: h → [−h, h]; both ends within [−0.5, 0.5]. */
export function hueRange(value: number | [number, number]): [number, number] | undefined {
  const range: [number, number] = typeof value === 'number' ? [-value, value] : value;
  if (range[0] > range[1] || range[0] < -0.5 || range[1] > 0.5) {
    throw new UserError(`color_jitter: hue must lie in [-0.5, 0.5] as h or [low, high] with low ≤ high (got ${value}).`);
  }
  return range[0] === 0 && range[1] === 0 ? undefined : range;
}

type Adjust = (images: tf.Tensor4D, factors: readonly number[]) => tf.Tensor4D;

/** torchvision's ColorJitter: brightness, contrast, saturation and hue, each with a random per-image factor. */
export const colorJitter = defineComponent({
  name: 'color_jitter',
  summary: 'Random brightness, contrast, saturation and hue per image, in a random order per batch (torchvision ColorJitter).',
  params: Type.Object(
    {
      brightness: Factor('b: brightness factor drawn from [max(0, 1-b), 1+b]; or [low, high]. 0 = off.'),
      contrast: Factor('c: contrast factor drawn from [max(0, 1-c), 1+c]; or [low, high]. 0 = off.'),
      saturation: Factor('s: saturation factor drawn from [max(0, 1-s), 1+s]; or [low, high]. 0 = off.'),
      hue: Type.Union([Type.Number({ minimum: 0, maximum: 0.5 }), Type.Tuple([Type.Number(), Type.Number()])], {
        default: 0,
        description: 'h: hue shift drawn from [-h, h] (fraction of the colour wheel, h ≤ 0.5); or [low, high]. 0 = off.',
      }),
    },
    { additionalProperties: false },
  ),
  build(params): ImageAugmentation {
    const adjustments: { name: string; range: [number, number]; adjust: Adjust }[] = [];
    const add = (name: string, range: [number, number] | undefined, adjust: Adjust) => {
      if (range) adjustments.push({ name, range, adjust });
    };
    add('brightness', factorRange(params.brightness, 'brightness'), adjustBrightness);
    add('contrast', factorRange(params.contrast, 'contrast'), adjustContrast);
    add('saturation', factorRange(params.saturation, 'saturation'), adjustSaturation);
    add('hue', hueRange(params.hue), adjustHue);
    const needsColour = adjustments.some((a) => a.name === 'saturation' || a.name === 'hue');
    return {
      kind: 'image',
      name: 'color_jitter',
      random: true,
      applyTo: 'train',
      visible: true,
      outputShape(shape) {
        if (needsColour && shape[2] !== 3) throw new Error(`saturation and hue need RGB images; these have ${shape[2]} channel(s)`);
        return shape;
      },
      apply(images, random: Rng) {
        const batch = images.shape[0];
        // torchvision draws the order per call; here once per batch, the factors per image.
        const order = adjustments.map((a) => ({ a, key: random() })).sort((x, y) => x.key - y.key);
        let out = images;
        for (const { a } of order) {
          const factors = Array.from({ length: batch }, () => uniform(random, a.range[0], a.range[1]));
          out = a.adjust(out, factors);
        }
        return out;
      },
    };
  },
});
