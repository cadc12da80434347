import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { classifierHead, HeadSchema, imageInput } from './image.ts';
import type { BuiltModel, ModelContext } from './model.ts';

/** Filters and stride of MobileNet v1's 13 depthwise-separable blocks (before the width multiplier). */
export const MOBILENET_V1_BLOCKS: readonly [filters: number, stride: number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/**
 * MobileNet v1 (Howard et al., 2017) built from scratch with the Keras layer names (conv1,
 * conv_dw_N, conv_pw_N, ..._bn, ..._relu), so the layers line up with the pretrained TF.js model;
 * the classifier is the runner's head (head_*).
 */
export const mobilenetV1 = defineComponent({
  name: 'mobilenet_v1',
  summary: 'MobileNet v1 from scratch (Keras layer names): depthwise-separable convolutions, ReLU6, width multiplier alpha.',
  params: Type.Object(
    {
      alpha: Type.Number({
        exclusiveMinimum: 0,
        default: 1,
        description: 'Width multiplier: every layer has alpha × its filters (0.25, 0.5, 0.75, 1).',
      }),
      bn_momentum: Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        default: 0.9,
        description: "Momentum of the batch-norm moving statistics (Keras' 0.99 is slow for short runs; 0.9 = PyTorch's default).",
      }),
      head: HeadSchema,
    },
    { additionalProperties: false },
  ),
  build(params, context: ModelContext): BuiltModel {
    const shape = imageInput('mobilenet_v1', context);
    const input = tf.input({ shape, name: 'input_1' });
    const width = (filters: number) => Math.max(1, Math.floor(filters * params.alpha));
    const bnRelu = (x: tf.SymbolicTensor, name: string) => {
      const normalized = tf.layers
        .batchNormalization({ momentum: params.bn_momentum, epsilon: 1e-3, name: `${name}_bn` })
        .apply(x) as tf.SymbolicTensor;
      return tf.layers.activation({ activation: 'relu6', name: `${name}_relu` }).apply(normalized) as tf.SymbolicTensor;
    };
    let x = tf.layers
      .conv2d({ filters: width(32), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' })
      .apply(input) as tf.SymbolicTensor;
    x = bnRelu(x, 'conv1');
    MOBILENET_V1_BLOCKS.forEach(([filters, strides], i) => {
      const id = i + 1;
      x = tf.layers
        .depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', depthMultiplier: 1, useBias: false, name: `conv_dw_${id}` })
        .apply(x) as tf.SymbolicTensor;
      x = bnRelu(x, `conv_dw_${id}`);
      x = tf.layers
        .conv2d({ filters: width(filters), kernelSize: 1, padding: 'same', useBias: false, name: `conv_pw_${id}` })
        .apply(x) as tf.SymbolicTensor;
      x = bnRelu(x, `conv_pw_${id}`);
    });
    const pooled = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: classifierHead(pooled, context.numClasses, params.head), name: 'mobilenet_v1' });
  },
});
