import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { convReluMaxPool } from '../../../../components/model/layers/conv-max-pool.ts';
import { assertClose, assertNonTrivial } from '../../../helpers/tensors.ts';

/** What the layers compute: conv1d (valid, stride 1) + bias, ReLU, max over time. */
function reference(x: tf.Tensor3D, kernel: tf.Tensor3D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.max(tf.relu(tf.add(tf.conv1d(x, kernel, 1, 'valid'), bias)), 1) as tf.Tensor2D;
}

for (const [k, time] of [
  [3, 20],
  [5, 9],
  [1, 4],
] as const) {
  test(`kernel ${k} over ${time} steps: output and the gradients of x, kernel and bias equal conv1d → relu → max's`, () => {
    const x = tf.randomNormal([4, time, 6], 0, 1, 'float32', k) as tf.Tensor3D;
    const kernel = tf.randomNormal([k, 6, 5], 0, 0.5, 'float32', k + 1) as tf.Tensor3D;
    const bias = tf.randomNormal([5], -2, 1, 'float32', k + 2) as tf.Tensor1D;
    const upstream = tf.randomNormal([4, 5], 0, 1, 'float32', k + 3);
    const run = (f: typeof reference) =>
      tf.tidy(() => {
        const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor1D), upstream));
        const grads = tf.grads(loss)([x, kernel, bias]);
        return [f(x, kernel, bias), ...grads].map((t) => t.dataSync() as Float32Array);
      });
    const ours = run(convReluMaxPool);
    const expected = run(reference);
    ['output', 'dx', 'dkernel', 'dbias'].forEach((what, i) => {
      assertNonTrivial(expected[i]!, what);
      assertClose(ours[i]!, expected[i]!, what, 1e-4, 1e-5);
    });
    // Some channels are clipped to zero by the ReLU for some examples (the bias is negative on average).
    assert.ok(expected[0]!.some((v) => v === 0) || k === 1, 'a clipped channel is covered');
    tf.dispose([x, kernel, bias, upstream]);
  });
}

test('no tensor is left behind by a forward and backward pass', () => {
  const x = tf.randomNormal([2, 10, 3]) as tf.Tensor3D;
  const kernel = tf.randomNormal([3, 3, 4]) as tf.Tensor3D;
  const bias = tf.zeros([4]) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  tf.dispose(
    tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(convReluMaxPool(a as tf.Tensor3D, b as tf.Tensor3D, bias)))([x, kernel])),
  );
  assert.is(tf.memory().numTensors, before);
  tf.dispose([x, kernel, bias]);
});

test.run();
