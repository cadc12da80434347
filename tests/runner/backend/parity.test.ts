// The native backend (TensorFlow 2.21 through tfjs-node) agrees with the pure-JS 'cpu' backend
// within float32 tolerance on the operations training uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runner/backend/select.ts';
import { assertClose, assertNonTrivial } from '../../helpers/tensors.ts';
import { onBackend, tensor, values } from './helpers.ts';

type Case = () => tf.Tensor[] | Promise<tf.Tensor[]>;

/** Runs a case on both backends and compares every output. */
async function agree(name: string, fn: Case, rtol?: number, atol?: number): Promise<void> {
  const native = await onBackend('tensorflow', fn);
  const js = await onBackend('cpu', fn);
  assert.is(native.length, js.length);
  native.forEach((a, i) => {
    assertNonTrivial(js[i]!, `${name} #${i}`);
    assertClose(a, js[i]!, `${name} #${i}`, rtol, atol);
  });
}

test.before(async () => {
  const report = await selectBackend('cpu');
  assert.is(report.kind, 'native-cpu', `native backend expected (CI runs npm run setup:tensorflow): ${JSON.stringify(report)}`);
});

test('matmul 64x96 by 96x48', async () => {
  const a = values([64, 96], 1);
  const b = values([96, 48], 2);
  await agree('matmul', () => [tf.matMul(tensor(a), tensor(b)), tf.matMul(tensor(a), tensor(b), false, false).transpose()]);
});

test('conv1d forward and its gradients (input and filter), same and valid padding', async () => {
  const x = values([3, 40, 16], 3);
  const w = values([4, 16, 10], 4);
  for (const pad of ['same', 'valid'] as const) {
    const dyShape = [3, pad === 'same' ? 40 : 37, 10];
    const dy = values(dyShape, 5);
    await agree(`conv1d ${pad}`, () => {
      const f = (xi: tf.Tensor, wi: tf.Tensor): tf.Scalar =>
        tf
          .conv1d(xi as tf.Tensor3D, wi as tf.Tensor3D, 1, pad)
          .mul(tensor(dy))
          .sum();
      const [gx, gw] = tf.grads(f)([tensor(x), tensor(w)]);
      return [tf.conv1d(tensor(x) as tf.Tensor3D, tensor(w) as tf.Tensor3D, 1, pad), gx!, gw!];
    });
  }
});

test('one LSTM step (basicLSTMCell) and the gradient of its output by the kernel', async () => {
  const batch = 4,
    input = 12,
    units = 8;
  const xs = values([batch, input], 6);
  const h0 = values([batch, units], 7);
  const c0 = values([batch, units], 8);
  const kernel = values([input + units, 4 * units], 9);
  const bias = values([4 * units], 10);
  await agree('lstm', () => {
    const step = (k: tf.Tensor): tf.Tensor[] =>
      tf.basicLSTMCell(
        tf.scalar(1),
        k as tf.Tensor2D,
        tensor(bias) as tf.Tensor1D,
        tensor(xs) as tf.Tensor2D,
        tensor(c0) as tf.Tensor2D,
        tensor(h0) as tf.Tensor2D,
      );
    const [c1, h1] = step(tensor(kernel));
    const gk = tf.grad((k: tf.Tensor) => step(k)[1]!.sum())(tensor(kernel));
    return [c1!, h1!, gk];
  });
});

test('Adam: three updates of a small regression agree', async () => {
  const x = values([32, 10], 11);
  const y = values([32, 3], 12);
  const w0 = values([10, 3], 13);
  await agree('adam', () => {
    const w = tf.variable(tensor(w0));
    const b = tf.variable(tf.zeros([3]));
    const opt = tf.train.adam(0.05);
    for (let step = 0; step < 3; step++) {
      opt.minimize(() => tf.losses.meanSquaredError(tensor(y), tensor(x).matMul(w).add(b)) as tf.Scalar);
    }
    const out = [w.clone(), b.clone()];
    opt.dispose();
    w.dispose();
    b.dispose();
    return out;
  });
});

test.run();
