import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { defineComponent } from '../../runner/registry.ts';
import { ApplyToParam, type ImageAugmentation } from './augmentation.ts';
import { MAX } from './color.ts';

/** Maps pixels from [0, 255] to the model's input range: (x/255 − mean)/std per channel, or linearly onto `scale`. */
export const normalize = defineComponent({
  name: 'normalize',
  summary: "Maps pixels to the model's input range: per-channel (x/255 - mean)/std, or linearly onto scale (e.g. [-1, 1]).",
  params: Type.Object(
    {
      mean: Type.Optional(
        Type.Array(Type.Number(), { minItems: 1, description: 'Per-channel mean in [0, 1] units (e.g. ImageNet [0.485, 0.456, 0.406]).' }),
      ),
      std: Type.Optional(
        Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
          minItems: 1,
          description: 'Per-channel standard deviation in [0, 1] units (e.g. [0.229, 0.224, 0.225]).',
        }),
      ),
      scale: Type.Optional(
        Type.Tuple([Type.Number(), Type.Number()], {
          description: 'Target range [low, high]: 0 maps to low, 255 to high (MobileNet: [-1, 1]).',
        }),
      ),
      apply_to: ApplyToParam,
    },
    { additionalProperties: false },
  ),
  build(params): ImageAugmentation {
    const byStats = params.mean !== undefined || params.std !== undefined;
    if (byStats === (params.scale !== undefined) || (byStats && (params.mean === undefined || params.std === undefined))) {
      throw new UserError(
        'normalize: give either mean and std (per channel, in [0, 1] units) or scale: [low, high], not both and not neither.',
      );
    }
    const { mean, std, scale } = params;
    if (mean && std && mean.length !== std.length) {
      throw new UserError(`normalize: mean has ${mean.length} values but std has ${std.length}; give one per channel.`);
    }
    return {
      kind: 'image',
      name: 'normalize',
      random: false,
      applyTo: params.apply_to,
      visible: false,
      outputShape(shape) {
        if (mean && mean.length !== 1 && mean.length !== shape[2]) {
          throw new Error(`mean and std have ${mean.length} values but the images have ${shape[2]} channels`);
        }
        return shape;
      },
      apply(images) {
        if (scale) return tf.add(tf.mul(images, (scale[1] - scale[0]) / MAX), scale[0]);
        // (x/255 − mean)/std = x · 1/(255·std) − mean/std, per channel.
        const multiplier = tf.tensor1d(std!.map((s) => 1 / (MAX * s)));
        const offset = tf.tensor1d(mean!.map((m, i) => m / std![i]!));
        return tf.sub(tf.mul(images, multiplier), offset);
      },
    };
  },
});
