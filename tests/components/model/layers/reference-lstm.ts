// A straightforward LSTM, the textbook equations one time step and one direction at a time, for
// checking the fused implementations against.
import * as tf from '@tensorflow/tfjs';
import type { BidirectionalWeights, LstmWeights } from '../../../../components/model/layers/lstm-weights.ts';

/** Outputs `[batch, time, units]` of one LSTM direction over `x` `[batch, time, input]` from zero states. */
export function referenceLstm(x: tf.Tensor3D, w: LstmWeights): tf.Tensor3D {
  const [batch, time, input] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const gate = (z: tf.Tensor2D, k: number): tf.Tensor2D => tf.slice(z, [0, k * units], [batch, units]);
  let h: tf.Tensor2D = tf.zeros([batch, units]);
  let c: tf.Tensor2D = tf.zeros([batch, units]);
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < time; t++) {
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [batch, 1, input]), [batch, input]) as tf.Tensor2D;
    const z = tf.add(tf.add(tf.matMul(xt, w.kernel), tf.matMul(h, w.recurrentKernel)), w.bias) as tf.Tensor2D;
    const i = tf.sigmoid(gate(z, 0));
    const f = tf.sigmoid(gate(z, 1));
    const g = tf.tanh(gate(z, 2));
    const o = tf.sigmoid(gate(z, 3));
    c = tf.add(tf.mul(f, c), tf.mul(i, g));
    h = tf.mul(o, tf.tanh(c));
    outputs.push(h);
  }
  return tf.stack(outputs, 1) as tf.Tensor3D;
}

/** The forward direction's outputs ⧺ the backward direction's (run on the time-reversed input, re-reversed). */
export function referenceBidirectionalLstm(x: tf.Tensor3D, w: BidirectionalWeights): tf.Tensor3D {
  const forward = referenceLstm(x, w.forward);
  const backward = tf.reverse(referenceLstm(tf.reverse(x, 1), w.backward), 1);
  return tf.concat([forward, backward], 2);
}
