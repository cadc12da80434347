import type * as tf from '@tensorflow/tfjs';

/**
 * The weights of one LSTM direction in tfjs-layers' (Keras') layout: `kernel` `[input, 4 * units]`,
 * `recurrentKernel` `[units, 4 * units]` and `bias` `[4 * units]`, gates in the order i, f, c, o.
 */
export interface LstmWeights {
  kernel: tf.Tensor2D;
  recurrentKernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** The weights of a bidirectional LSTM layer: the forward and the backward direction. */
export interface BidirectionalWeights {
  forward: LstmWeights;
  backward: LstmWeights;
}
