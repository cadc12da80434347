import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent, type CheckIssue } from '../../runner/registry.ts';
import { MAX_WIDTH, textInput, type BuiltModel, type ModelContext } from './model.ts';
import { loadPretrainedEmbeddings } from './embedding.ts';
import { convReluMaxPool } from './layers/conv-max-pool.ts';
import { fusedKernelsAllowed } from '../../runner/backend/fused-training.ts';

/** The lesson's TextCNN: two embeddings, one conv1d per kernel size, max-over-time pooling, dropout, dense. */
export const textcnn = defineComponent({
  name: 'textcnn',
  summary: "d2l's TextCNN: trainable + frozen embeddings, conv1d per kernel size, max-over-time pooling.",
  params: Type.Object(
    {
      embed_size: Type.Integer({ minimum: 1, maximum: MAX_WIDTH, default: 100, description: 'Width of each of the two embeddings.' }),
      kernel_sizes: Type.Array(Type.Integer({ minimum: 1, maximum: MAX_WIDTH }), {
        minItems: 1,
        default: [3, 4, 5],
        description: 'One conv1d per kernel size (in tokens).',
      }),
      num_channels: Type.Array(Type.Integer({ minimum: 1, maximum: MAX_WIDTH }), {
        minItems: 1,
        default: [100, 100, 100],
        description: 'Output channels of each conv1d, same length as kernel_sizes.',
      }),
      dropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'Dropout rate before the classifier.' }),
      constant_embedding: Type.Boolean({
        default: true,
        description: 'Add the frozen second embedding (layer constant_embedding), concatenated with the trainable one.',
      }),
    },
    { additionalProperties: false },
  ),
  check(params, context): CheckIssue[] {
    const issues: CheckIssue[] = [];
    if (params.kernel_sizes.length !== params.num_channels.length) {
      issues.push({
        path: ['num_channels'],
        message: `textcnn: kernel_sizes has ${params.kernel_sizes.length} entries but num_channels has ${params.num_channels.length}; give one channel count per kernel size.`,
      });
    }
    const maxLen = context.inputShape?.length === 1 ? context.inputShape[0]! : undefined;
    params.kernel_sizes.forEach((k, i) => {
      if (maxLen !== undefined && k > maxLen) {
        issues.push({
          path: ['kernel_sizes', i],
          message: `textcnn: kernel size ${k} would exceed max_len ${maxLen} (a kernel spans that many tokens).`,
        });
      }
    });
    return issues;
  },
  build(params, context: ModelContext): BuiltModel {
    const { vocabSize, maxLen } = textInput('textcnn', context);
    const tokens = tf.input({ shape: [maxLen], dtype: 'int32', name: 'tokens' });
    const embedding = (name: string, trainable: boolean) =>
      tf.layers
        .embedding({
          name,
          trainable,
          inputDim: vocabSize,
          outputDim: params.embed_size,
        })
        .apply(tokens) as tf.SymbolicTensor;
    let embedded = embedding('embedding', true);
    if (params.constant_embedding) {
      embedded = tf.layers
        .concatenate({ axis: -1, name: 'embeddings' })
        .apply([embedded, embedding('constant_embedding', false)]) as tf.SymbolicTensor;
    }
    const pooled = params.kernel_sizes.map((kernelSize, i) => {
      const conv = tf.layers
        .conv1d({ name: `conv_k${kernelSize}_${i}`, filters: params.num_channels[i]!, kernelSize, activation: 'relu' })
        .apply(embedded) as tf.SymbolicTensor;
      return tf.layers.globalMaxPooling1d({ name: `pool_k${kernelSize}_${i}` }).apply(conv) as tf.SymbolicTensor;
    });
    const features = pooled.length === 1 ? pooled[0]! : (tf.layers.concatenate({ name: 'features' }).apply(pooled) as tf.SymbolicTensor);
    const dropped = tf.layers.dropout({ rate: params.dropout, name: 'dropout' }).apply(features) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: context.numClasses, name: 'dense' }).apply(dropped) as tf.SymbolicTensor;
    const model = tf.model({ inputs: tokens, outputs: logits, name: 'textcnn' });
    const embeddingLayers = params.constant_embedding ? ['embedding', 'constant_embedding'] : ['embedding'];
    loadPretrainedEmbeddings(model, embeddingLayers, context, params.embed_size);
    poolOnlyKeptPositions(
      model,
      embeddingLayers,
      params.kernel_sizes.map((k, i) => `conv_k${k}_${i}`),
    );
    return model;
  },
});

/** The parts of a tfjs-layers Conv1D the fused pooling reads. */
interface Conv1DWeights {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable;
}

/**
 * Runs `model` (when called on tensors: training, evaluation) with each conv → ReLU → max-over-time
 * branch as convReluMaxPool, whose backward pass visits only the pooled time steps; the layers, their
 * weights and what is saved stay as they are (RUNNER_FUSED_KERNELS=0: the layers' own path).
 */
function poolOnlyKeptPositions(model: tf.LayersModel, embeddings: string[], convs: string[]): void {
  const layerCall = model.call.bind(model);
  const embeddingLayers = embeddings.map((name) => model.getLayer(name));
  const convLayers = convs.map((name) => model.getLayer(name) as unknown as Conv1DWeights);
  const [dropout, dense] = [model.getLayer('dropout'), model.getLayer('dense')];
  model.call = (inputs, kwargs) => {
    if (!fusedKernelsAllowed()) return layerCall(inputs, kwargs);
    return tf.tidy(() => {
      const tokens = Array.isArray(inputs) ? inputs[0]! : inputs;
      const embedded = embeddingLayers.map((layer) => layer.apply(tokens, kwargs) as tf.Tensor3D);
      const x = embedded.length === 1 ? embedded[0]! : tf.concat(embedded, -1);
      const pooled = convLayers.map((conv) => convReluMaxPool(x, conv.kernel.read() as tf.Tensor3D, conv.bias.read() as tf.Tensor1D));
      const features = pooled.length === 1 ? pooled[0]! : tf.concat(pooled, -1);
      return dense.apply(dropout.apply(features, kwargs), kwargs) as tf.Tensor;
    });
  };
}
