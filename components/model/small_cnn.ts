import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { classifierHead, HeadSchema, imageInput } from './image.ts';
import { MAX_WIDTH, type BuiltModel, type ModelContext } from './model.ts';

/** A small convolutional network for tests and quick experiments: conv-BN-ReLU-maxpool stages, then the head. */
export const smallCnn = defineComponent({
  name: 'small_cnn',
  summary: 'A small CNN: per stage 3×3 conv, batch norm, ReLU, 2×2 max pooling; global average pooling and a dense head.',
  params: Type.Object(
    {
      channels: Type.Array(Type.Integer({ minimum: 1, maximum: MAX_WIDTH }), {
        minItems: 1,
        default: [32, 64, 128],
        description: 'Output channels of each stage (one stage per entry; each halves the resolution).',
      }),
      batch_norm: Type.Boolean({ default: true, description: 'Batch normalization after each convolution.' }),
      head: HeadSchema,
    },
    { additionalProperties: false },
  ),
  build(params, context: ModelContext): BuiltModel {
    const shape = imageInput('small_cnn', context);
    const input = tf.input({ shape, name: 'image' });
    let x: tf.SymbolicTensor = input;
    params.channels.forEach((filters, i) => {
      const n = i + 1;
      x = tf.layers
        .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: !params.batch_norm, name: `conv${n}` })
        .apply(x) as tf.SymbolicTensor;
      if (params.batch_norm)
        x = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `conv${n}_bn` }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `conv${n}_relu` }).apply(x) as tf.SymbolicTensor;
      if (Math.min(x.shape[1]!, x.shape[2]!) >= 2)
        x = tf.layers.maxPooling2d({ poolSize: 2, name: `pool${n}` }).apply(x) as tf.SymbolicTensor;
    });
    return tf.model({ inputs: input, outputs: classifierHead(x, context.numClasses, params.head), name: 'small_cnn' });
  },
});
