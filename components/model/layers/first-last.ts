import * as tf from '@tensorflow/tfjs';

/** Concatenates the first and the last time step of a `[batch, time, features]` sequence. */
export class FirstLastTimeSteps extends tf.layers.Layer {
  static className = 'FirstLastTimeSteps';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[2];
    return [shape[0]!, features == null ? null : 2 * features] as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const sequence = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, steps, features] = sequence.shape;
      const first = tf.slice(sequence, [0, 0, 0], [batch, 1, features]);
      const last = tf.slice(sequence, [0, steps - 1, 0], [batch, 1, features]);
      return tf.reshape(tf.concat([first, last], 2), [batch, 2 * features]);
    });
  }
}
tf.serialization.registerClass(FirstLastTimeSteps);
