import * as tf from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import { UserError } from '../../runner/errors.ts';
import { MAX_WIDTH, type ModelContext } from './model.ts';

/** The `[height, width, channels]` an image model reads; a UserError for text data. */
export function imageInput(model: string, context: ModelContext): [number, number, number] {
  if (context.inputShape.length !== 3 || context.vocabSize !== undefined) {
    throw new UserError(
      `The ${model} model reads images, but the dataset is not an image dataset; use a text model (textcnn, birnn) instead.`,
    );
  }
  return context.inputShape as [number, number, number];
}

/** The `head` param of image models: optional hidden layers, dropout, then one logit per class. */
export const HeadSchema = Type.Object(
  {
    units: Type.Array(Type.Integer({ minimum: 1, maximum: MAX_WIDTH }), {
      default: [],
      description: 'Hidden dense layers (ReLU) before the classifier, e.g. [256]; [] = a single dense layer.',
    }),
    dropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout rate before the classifier.' }),
  },
  { additionalProperties: false, default: {}, description: 'The new classification head. Its layers are named head_* (for param_groups).' },
);

/** The `head` param as validated. */
export type HeadParams = Static<typeof HeadSchema>;

/**
 * Appends the classification head to `features`: global average pooling for feature maps, the
 * hidden layers, dropout and the classifier. Every layer is named `head_*`, so `param_groups` can
 * give the head its own learning rate with `match: ['^head_']`.
 */
export function classifierHead(features: tf.SymbolicTensor, numClasses: number, head: HeadParams): tf.SymbolicTensor {
  let x = features;
  if (x.shape.length === 4) x = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(x) as tf.SymbolicTensor;
  else if (x.shape.length !== 2) x = tf.layers.flatten({ name: 'head_flatten' }).apply(x) as tf.SymbolicTensor;
  head.units.forEach((units, i) => {
    x = tf.layers.dense({ units, activation: 'relu', name: `head_dense_${i}` }).apply(x) as tf.SymbolicTensor;
  });
  if (head.dropout > 0) x = tf.layers.dropout({ rate: head.dropout, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: numClasses, name: 'head_logits' }).apply(x) as tf.SymbolicTensor;
}
