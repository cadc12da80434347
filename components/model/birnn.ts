import * as tf from '@tensorflow/tfjs';
import { Type } from '@sinclair/typebox';
import { defineComponent } from '../../runner/registry.ts';
import { loadPretrainedEmbeddings } from './embedding.ts';
import { FirstLastTimeSteps } from './layers/first-last.ts';
import { FusedBidirectionalLSTM } from './layers/fused-lstm.ts';
import { MAX_DEPTH, MAX_WIDTH, textInput, type BuiltModel, type ModelContext } from './model.ts';

/** The lesson's BiRNN: embedding, stacked bidirectional LSTMs, first + last outputs, dense. */
export const birnn = defineComponent({
  name: 'birnn',
  summary: "d2l's BiRNN: embedding, stacked bidirectional LSTMs, first and last outputs concatenated, dense.",
  params: Type.Object(
    {
      embed_size: Type.Integer({ minimum: 1, maximum: MAX_WIDTH, default: 100, description: 'Embedding width.' }),
      num_hiddens: Type.Integer({ minimum: 1, maximum: MAX_WIDTH, default: 100, description: 'LSTM units per direction.' }),
      num_layers: Type.Integer({ minimum: 1, maximum: MAX_DEPTH, default: 2, description: 'Stacked bidirectional LSTM layers.' }),
      freeze_embedding: Type.Boolean({
        default: false,
        description: 'Make the embedding non-trainable (the lesson freezes it when it holds GloVe vectors).',
      }),
      implementation: Type.Union([Type.Literal('fused'), Type.Literal('layers')], {
        default: 'fused',
        description:
          "How the LSTMs compute; same maths and weights either way. 'fused': each bidirectional layer is one op, " +
          "TensorFlow's fused BlockLSTM kernels on the native backend (fused tfjs ops on pure JS). 'layers': tfjs-layers' " +
          'bidirectional(lstm), several small ops per time step (the reference; ~10x slower on the native backend).',
      }),
    },
    { additionalProperties: false },
  ),
  // The fused LSTM's graph runs the two directions at once, each a chain of small per-step GEMMs: each direction on
  // its own share of the cores beats both sharing every core (1.3x on 2 cores: docs/BENCHMARKS.md).
  intraOpThreads: (params, cores) => (params.implementation === 'fused' ? Math.max(1, Math.floor(cores / 2)) : undefined),
  build(params, context: ModelContext): BuiltModel {
    const { vocabSize, maxLen } = textInput('birnn', context);
    const tokens = tf.input({ shape: [maxLen], dtype: 'int32', name: 'tokens' });
    let sequence = tf.layers
      .embedding({
        name: 'embedding',
        inputDim: vocabSize,
        outputDim: params.embed_size,
        trainable: !params.freeze_embedding,
      })
      .apply(tokens) as tf.SymbolicTensor;
    for (let layer = 0; layer < params.num_layers; layer++) {
      sequence = bidirectionalLstm(params.implementation, layer, params.num_hiddens).apply(sequence) as tf.SymbolicTensor;
    }
    const encoding = new FirstLastTimeSteps({ name: 'first_last' }).apply(sequence) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: context.numClasses, name: 'dense' }).apply(encoding) as tf.SymbolicTensor;
    const model = tf.model({ inputs: tokens, outputs: logits, name: 'birnn' });
    loadPretrainedEmbeddings(model, ['embedding'], context, params.embed_size);
    return model;
  },
});

/**
 * Bidirectional LSTM layer `bilstm_<index>` returning every step's outputs; both implementations
 * compute the lesson's LSTM (sigmoid gates, tanh) and name and lay out their weights alike.
 */
export function bidirectionalLstm(implementation: 'fused' | 'layers', index: number, units: number): tf.layers.Layer {
  const name = `bilstm_${index}`;
  const cellName = `lstm_${index}`;
  if (implementation === 'fused') {
    return new FusedBidirectionalLSTM({ name, cellName, units, kernelInitializer: 'glorotUniform', recurrentInitializer: 'glorotUniform' });
  }
  const lstm = tf.layers.lstm({
    name: cellName,
    units,
    returnSequences: true,
    recurrentActivation: 'sigmoid',
    kernelInitializer: 'glorotUniform',
    recurrentInitializer: 'glorotUniform',
  });
  return tf.layers.bidirectional({ name, layer: lstm, mergeMode: 'concat' });
}
