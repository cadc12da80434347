import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { Choice } from '../augmentation/augmentation.ts';
import { defineComponent } from '../../runner/registry.ts';
import { classifierHead, HeadSchema, imageInput } from './image.ts';
import { MAX_WIDTH, type BuiltModel, type ModelContext } from './model.ts';

/**
 * The residual block of d2l's ResNet: 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus the
 * input (through a strided 1×1 conv when the shape changes), then ReLU.
 */
function residual(x: tf.SymbolicTensor, filters: number, strides: number, name: string, momentum: number): tf.SymbolicTensor {
  const conv = (input: tf.SymbolicTensor, kernelSize: number, s: number, suffix: string) =>
    tf.layers
      .conv2d({ filters, kernelSize, strides: s, padding: 'same', useBias: false, name: `${name}_${suffix}` })
      .apply(input) as tf.SymbolicTensor;
  const bn = (input: tf.SymbolicTensor, suffix: string) =>
    tf.layers.batchNormalization({ momentum, epsilon: 1e-5, name: `${name}_${suffix}` }).apply(input) as tf.SymbolicTensor;
  let y = bn(conv(x, 3, strides, 'conv1'), 'bn1');
  y = tf.layers.reLU({ name: `${name}_relu1` }).apply(y) as tf.SymbolicTensor;
  y = bn(conv(y, 3, 1, 'conv2'), 'bn2');
  const shortcut = strides !== 1 || x.shape[3] !== filters ? bn(conv(x, 1, strides, 'shortcut'), 'shortcut_bn') : x;
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return tf.layers.reLU({ name: `${name}_out` }).apply(sum) as tf.SymbolicTensor;
}

/** ResNet-18 (He et al., 2016; d2l's version) from scratch. */
export const resnet18 = defineComponent({
  name: 'resnet18',
  summary: 'ResNet-18 from scratch: a stem, four stages of two residual blocks, global average pooling and a dense head.',
  params: Type.Object(
    {
      widths: Type.Tuple(
        [
          Type.Integer({ minimum: 1, maximum: MAX_WIDTH }),
          Type.Integer({ minimum: 1, maximum: MAX_WIDTH }),
          Type.Integer({ minimum: 1, maximum: MAX_WIDTH }),
          Type.Integer({ minimum: 1, maximum: MAX_WIDTH }),
        ],
        { default: [64, 128, 256, 512], description: 'Channels of the four stages (stages 2-4 halve the resolution).' },
      ),
      stem: Choice(['imagenet', 'small'], {
        default: 'imagenet',
        description: 'imagenet: 7×7 stride-2 conv + 3×3 stride-2 max pool (224 px inputs); small: one 3×3 conv (32-64 px inputs).',
      }),
      bn_momentum: Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        default: 0.9,
        description: 'Momentum of the batch-norm moving statistics.',
      }),
      head: HeadSchema,
    },
    { additionalProperties: false },
  ),
  build(params, context: ModelContext): BuiltModel {
    const shape = imageInput('resnet18', context);
    const input = tf.input({ shape, name: 'image' });
    const large = params.stem === 'imagenet';
    let x = tf.layers
      .conv2d({
        filters: params.widths[0],
        kernelSize: large ? 7 : 3,
        strides: large ? 2 : 1,
        padding: 'same',
        useBias: false,
        name: 'conv1',
      })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: params.bn_momentum, epsilon: 1e-5, name: 'conv1_bn' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: 'conv1_relu' }).apply(x) as tf.SymbolicTensor;
    if (large) x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool1' }).apply(x) as tf.SymbolicTensor;
    params.widths.forEach((filters, stage) => {
      for (let block = 0; block < 2; block++) {
        const strides = stage > 0 && block === 0 ? 2 : 1;
        x = residual(x, filters, strides, `stage${stage + 1}_block${block + 1}`, params.bn_momentum);
      }
    });
    return tf.model({ inputs: input, outputs: classifierHead(x, context.numClasses, params.head), name: 'resnet18' });
  },
});
