/**
 * A bidirectional LSTM from tfjs ops, for every backend (the pure-JS 'cpu' one included), with
 * few ops per time step: the input projections of all time steps and both directions in one
 * batched matmul before the loop; both directions advanced together, their four gates' recurrent
 * products in one batched matmul per step; the three sigmoid gates in one op. Per step tensors are
 * laid out gate-major ([gate, direction, batch, units]) so every per-step slice is a contiguous
 * block (the pure-JS backend copies other slices element by element). Gradients: tfjs's autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import type { BidirectionalWeights, LstmWeights } from './lstm-weights.ts';

/**
 * `[batch, time, 2 * units]`: the forward LSTM's outputs at each step concatenated with the
 * backward LSTM's (which read the sequence from its end), from zero states, as
 * tf.layers.bidirectional(tf.layers.lstm({returnSequences: true, recurrentActivation: 'sigmoid'})).
 */
export function jsBidirectionalLstm(x: tf.Tensor3D, weights: BidirectionalWeights): tf.Tensor3D {
  const [batch, time, inputSize] = x.shape;
  const units = weights.forward.recurrentKernel.shape[0];
  return tf.tidy(() => {
    const { kernel, bias, recurrent } = gateMajor(weights, units);
    // Time-major; direction 1 reads the sequence backwards: step t of the loop is its time T-1-t.
    const xt = tf.transpose(x, [1, 0, 2]);
    const inputs = tf.reshape(tf.stack([xt, reverseTime(xt)]), [2, time * batch, inputSize]);
    const projected = tf.add(tf.matMul(inputs, kernel), bias); // [2, time·batch, 4·units], gates i,f,o,c
    const byStep = tf.reshape(tf.transpose(tf.reshape(projected, [2, time, batch, 4, units]), [1, 3, 0, 2, 4]), [
      time,
      8,
      batch,
      units,
    ]) as tf.Tensor4D;
    const steps = unstackTime(byStep); // [4·2, batch, units] each: gate-major, then direction
    let h: tf.Tensor3D = tf.zeros([2, batch, units]);
    let c: tf.Tensor3D = tf.zeros([2, batch, units]);
    const outputs: tf.Tensor3D[] = [];
    for (const step of steps) {
      // Both directions' hidden states once per gate: [4·2, batch, units] times [4·2, units, units].
      const z = tf.add(step, tf.matMul(tf.concat([h, h, h, h]), recurrent));
      const [sigmoidGates, cellGate] = tf.split(z, [6, 2]);
      const [i, f, o] = tf.split(tf.sigmoid(sigmoidGates!), 3) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      c = tf.add(tf.mul(f, c), tf.mul(i, tf.tanh(cellGate!)));
      h = tf.mul(o, tf.tanh(c));
      outputs.push(h);
    }
    const [forward, backward] = tf.unstack(tf.transpose(tf.stack(outputs), [1, 0, 2, 3])); // [time, batch, units] each
    const merged = tf.stack([forward!, reverseTime(backward!)]); // [2, time, batch, units]
    return tf.reshape(tf.transpose(merged, [2, 1, 0, 3]), [batch, time, 2 * units]);
  });
}

/**
 * The time steps of a time-major tensor. (tfjs's gradient of an unstack with one output fails:
 * one step is a reshape.)
 */
function unstackTime(t: tf.Tensor4D): tf.Tensor3D[] {
  const [time, ...step] = t.shape;
  return (time === 1 ? [tf.reshape(t, step)] : tf.unstack(t)) as tf.Tensor3D[];
}

/** A time-major tensor with its time steps in reverse order: contiguous copies (tf.reverse copies element by element on the pure-JS backend). */
function reverseTime<T extends tf.Tensor>(t: T): T {
  return t.shape[0] === 1 ? t : (tf.stack([...tf.unstack(t)].reverse()) as T); // (unstack's array is on the gradient tape: a copy is reversed)
}

/**
 * Both directions' weights rearranged for the loop: `kernel` `[2, input, 4·units]` and `bias`
 * `[2, 1, 4·units]` with the gates reordered i,f,o,c (sigmoid gates first), and `recurrent`
 * `[4·2, units, units]`, one matrix per gate and direction, gate-major.
 */
function gateMajor(w: BidirectionalWeights, units: number): { kernel: tf.Tensor3D; bias: tf.Tensor3D; recurrent: tf.Tensor3D } {
  const reorder = <T extends tf.Tensor>(t: T, axis: number): T => {
    const [i, f, c, o] = tf.split(t, 4, axis);
    return tf.concat([i!, f!, o!, c!], axis) as T;
  };
  const perGate = (d: LstmWeights) => tf.transpose(tf.reshape(reorder(d.recurrentKernel, 1), [units, 4, units]), [1, 0, 2]); // [4, units, units]
  return {
    kernel: tf.stack([reorder(w.forward.kernel, 1), reorder(w.backward.kernel, 1)]) as tf.Tensor3D,
    bias: tf.reshape(tf.stack([reorder(w.forward.bias, 0), reorder(w.backward.bias, 0)]), [2, 1, 4 * units]),
    recurrent: tf.reshape(tf.stack([perGate(w.forward), perGate(w.backward)], 1), [8, units, units]),
  };
}
