import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testBackend } from '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../../components/model/index.ts';
import { fusedKernelsActive } from '../../../runner/backend/fused-training.ts';
import { assertClose, assertNonTrivial } from '../../helpers/tensors.ts';

const native = testBackend !== 'pure-js';
const nativeTest = native ? test : test.skip;

/** Runs `fn` with the fused kernels on or off (they read RUNNER_FUSED_KERNELS at every call). */
function withFused<T>(on: boolean, fn: () => T): T {
  const before = process.env.RUNNER_FUSED_KERNELS;
  process.env.RUNNER_FUSED_KERNELS = on ? '1' : '0';
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.RUNNER_FUSED_KERNELS;
    else process.env.RUNNER_FUSED_KERNELS = before;
  }
}

/** A batch-norm layer between a conv and the loss: outputs, gradients and moving statistics after one training step. */
function batchNormStep(fused: boolean, shape: [number, number, number, number]) {
  return withFused(fused, () => {
    assert.is(fusedKernelsActive(), fused);
    const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    const x = tf.tidy(() => tf.randomNormal(shape, 2, 3, 'float32', 7));
    layer.build(x.shape);
    tf.tidy(() => {
      layer.weights[0]!.write(tf.randomUniform([shape[3]], 0.5, 1.5, 'float32', 1)); // gamma
      layer.weights[1]!.write(tf.randomUniform([shape[3]], -1, 1, 'float32', 2)); // beta
    });
    const target = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 3));
    const trainable = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const result = tf.tidy(() => {
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.mul(tf.sub(layer.apply(x, { training: true }) as tf.Tensor, target), tf.relu6(x)))),
        trainable,
      );
      const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, target)))(x);
      return {
        y: y.dataSync() as Float32Array,
        dGamma: grads[trainable[0]!.name]!.dataSync() as Float32Array,
        dBeta: grads[trainable[1]!.name]!.dataSync() as Float32Array,
        dx: dx.dataSync() as Float32Array,
        movingMean: layer.getWeights()[2]!.dataSync() as Float32Array,
        movingVariance: layer.getWeights()[3]!.dataSync() as Float32Array,
      };
    });
    tf.dispose([x, target]);
    layer.weights.forEach((w) => w.dispose());
    return result;
  });
}

nativeTest('batch norm in training: the fused kernels give what tfjs-layers gives (output, gradients, moving statistics)', () => {
  const fused = batchNormStep(true, [4, 5, 6, 8]);
  const plain = batchNormStep(false, [4, 5, 6, 8]);
  for (const key of ['y', 'dGamma', 'dBeta', 'dx', 'movingMean', 'movingVariance'] as const) {
    assertNonTrivial(plain[key], key);
    assertClose(fused[key], plain[key], key, 1e-4, 1e-5);
  }
});

nativeTest('batch norm: no tensor is left behind by a fused training step', () => {
  batchNormStep(true, [2, 3, 3, 4]);
  const before = tf.memory().numTensors;
  batchNormStep(true, [2, 3, 3, 4]);
  assert.is(tf.memory().numTensors, before);
});

nativeTest('Relu and Relu6 gradients from ReluGrad / Relu6Grad equal tfjs’s', () => {
  const x = tf.tensor1d([-3, -0.5, 0.25, 1, 5.5, 7, 12]);
  const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
  for (const op of [tf.relu, tf.relu6]) {
    const grad = (fused: boolean) =>
      withFused(fused, () =>
        tf.tidy(() =>
          tf
            .grad((v: tf.Tensor) => tf.sum(tf.mul(op(v), dy)))(x)
            .dataSync(),
        ),
      );
    assert.equal(Array.from(grad(true)), Array.from(grad(false)));
  }
  assert.equal(
    Array.from(
      withFused(true, () =>
        tf.tidy(() =>
          tf
            .grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu6(v), dy)))(x)
            .dataSync(),
        ),
      ),
    ),
    [0, 0, 3, 4, 5, 0, 0],
  );
  tf.dispose([x, dy]);
});

/** ‖a − b‖ / ‖b‖. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let [diff, norm] = [0, 0];
  for (let i = 0; i < b.length; i++) [diff, norm] = [diff + (a[i]! - b[i]!) ** 2, norm + b[i]! ** 2];
  return Math.sqrt(diff / norm);
}

/** One training step of an image model from `start`: loss, gradients, moving statistics. */
function imageModelStep(fused: boolean, model_: Record<string, unknown> & { type: string }, start?: tf.Tensor[]) {
  return withFused(fused, () =>
    tf.tidy(() => {
      const model = models.build(model_, { numClasses: 3, inputShape: [64, 64, 3] }) as tf.LayersModel;
      if (start) model.setWeights(start);
      const initial = model.getWeights().map((w) => tf.keep(w.clone()));
      const x = tf.randomUniform([8, 64, 64, 3], -1, 1, 'float32', 11);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
      const trainable = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        trainable,
      );
      const moving = model.weights.filter((w) => /moving_(mean|variance)/.test(w.name)).map((w) => w.read().dataSync() as Float32Array);
      return {
        initial,
        loss: value.dataSync()[0]!,
        grads: trainable.map((v) => ({ name: v.name, values: grads[v.name]!.dataSync() as Float32Array })),
        moving,
      };
    }),
  );
}

nativeTest('a small CNN step (batch norm, ReLU) with the fused kernels gives what tfjs’s own give', () => {
  const model = { type: 'small_cnn', channels: [16, 32, 32] };
  const fused = imageModelStep(true, model);
  const plain = imageModelStep(false, model, fused.initial);
  tf.dispose([...fused.initial, ...plain.initial]);
  assert.ok(Math.abs(fused.loss - plain.loss) < 1e-5, `loss ${fused.loss} vs ${plain.loss}`);
  assert.is(fused.grads.length, 3 * 3 + 2); // per stage kernel, gamma, beta; the head
  plain.grads.forEach(({ name, values }, i) => {
    assertNonTrivial(values, name);
    const error = relativeError(fused.grads[i]!.values, values);
    assert.ok(error < 1e-3, `${name}: relative error ${error}`);
  });
  assert.is(plain.moving.length, 2 * 3);
  plain.moving.forEach((values, i) => assertClose(fused.moving[i]!, values, `moving statistic ${i}`, 1e-4, 1e-6));
});

nativeTest('a MobileNet step (27 batch norms, ReLU6) with the fused kernels gives what tfjs’s own give', () => {
  const fused = imageModelStep(true, { type: 'mobilenet_v1', alpha: 0.25 });
  const plain = imageModelStep(false, { type: 'mobilenet_v1', alpha: 0.25 }, fused.initial);
  tf.dispose([...fused.initial, ...plain.initial]);
  assert.ok(Math.abs(fused.loss - plain.loss) < 1e-5, `loss ${fused.loss} vs ${plain.loss}`);
  assert.is(fused.grads.length, 2 * 27 + 14 + 13 + 2); // bn gamma+beta, conv1 + 13 pointwise, 13 depthwise, head
  // Float32 sums in another order (and over TensorFlow's threads) through 27 batch norms and ReLU6 masks:
  // next to the loss the gradients agree to ~1e-5, but one mask element flipping at an exact 0 or 6 moves
  // everything upstream of it by up to a few percent. A wrong formula is off by far more.
  plain.grads.forEach(({ name, values }, i) => {
    assertNonTrivial(values, name);
    const error = relativeError(fused.grads[i]!.values, values);
    assert.ok(error < 0.1, `${name}: relative error ${error}`);
  });
  const head = plain.grads.at(-2)!;
  assert.ok(relativeError(fused.grads.at(-2)!.values, head.values) < 1e-3, `${head.name} next to the loss`);
  assert.is(plain.moving.length, 2 * 27);
  plain.moving.forEach((values, i) => assertClose(fused.moving[i]!, values, `moving statistic ${i}`, 1e-4, 1e-6));
});

test('the fused kernels are off on the pure-JS backend and when RUNNER_FUSED_KERNELS=0', () => {
  assert.is(fusedKernelsActive({ RUNNER_FUSED_KERNELS: '0' }), false);
  assert.is(fusedKernelsActive({}), native);
});

test.run();
