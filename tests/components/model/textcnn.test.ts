import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, disposeBuilt } from '../../../runner/run/build.ts';
import { loadModel, saveModel } from '../../../runner/run/model-io.ts';
import { evaluate, trainLoop } from '../../../runner/train/loop.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';
import { tempDir } from '../../helpers/files.ts';
import { models } from '../../../components/model/index.ts';
import { UserError } from '../../../runner/errors.ts';
import { seededRandom } from '../../../runner/train/random.ts';
import { assertClose } from '../../helpers/tensors.ts';

const context = { configDir: '.', warn() {} };

test('textcnn: the lesson architecture (two embeddings, one frozen; conv per kernel; pooled; dense)', async () => {
  const model = await models.build(
    { type: 'textcnn', embed_size: 4, kernel_sizes: [3, 5], num_channels: [6, 7] },
    { numClasses: 2, inputShape: [10], vocabSize: 20 },
  );
  assert.equal(model.outputs[0]!.shape, [null, 2]);
  assert.equal(
    model.trainableWeights.map((w) => w.originalName),
    ['embedding/embeddings', 'conv_k3_0/kernel', 'conv_k3_0/bias', 'conv_k5_1/kernel', 'conv_k5_1/bias', 'dense/kernel', 'dense/bias'],
  );
  assert.equal(
    model.nonTrainableWeights.map((w) => w.originalName),
    ['constant_embedding/embeddings'],
  );
  assert.equal(model.getLayer('conv_k5_1').getWeights()[0]!.shape, [5, 8, 7]);
  assert.equal(model.getLayer('dense').getWeights()[0]!.shape, [13, 2]);
  model.dispose();
});

test('textcnn: the pooled-positions path gives the layers’ logits and gradients, in training and evaluation', async () => {
  const model = await models.build(
    { type: 'textcnn', embed_size: 8, kernel_sizes: [2, 3, 4], num_channels: [5, 6, 7], dropout: 0.5 },
    { numClasses: 3, inputShape: [12], vocabSize: 30 },
  );
  const tokens = tf.tensor2d(
    Array.from({ length: 5 * 12 }, (_, i) => (i * 7) % 30),
    [5, 12],
    'int32',
  );
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), 3);
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const run = (fused: boolean, training: boolean) => {
    process.env.RUNNER_FUSED_KERNELS = fused ? '1' : '0';
    try {
      return tf.tidy(() => {
        // The same dropout masks on both paths: Math.random restarts from the same seed.
        const random = seededMath(7);
        const { value, grads } = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(
              labels,
              random(() => model.apply(tokens, { training }) as tf.Tensor),
            ),
          variables,
        );
        const logits = random(() => model.apply(tokens, { training }) as tf.Tensor);
        return {
          loss: value.dataSync()[0]!,
          logits: logits.dataSync() as Float32Array,
          grads: variables.map((v) => grads[v.name]!.dataSync() as Float32Array),
        };
      });
    } finally {
      delete process.env.RUNNER_FUSED_KERNELS;
    }
  };
  for (const training of [true, false]) {
    const fused = run(true, training);
    const layers = run(false, training);
    assert.ok(Math.abs(fused.loss - layers.loss) < 1e-6, `loss ${fused.loss} vs ${layers.loss}`);
    assertClose(fused.logits, layers.logits, 'logits', 1e-5, 1e-6);
    layers.grads.forEach((g, i) => assertClose(fused.grads[i]!, g, `gradient of ${variables[i]!.name}`, 1e-4, 1e-6));
  }
  // And the fused path is the one taken: no dense convolution gradients.
  const kernels = async (fused: boolean) => {
    process.env.RUNNER_FUSED_KERNELS = fused ? '1' : '0';
    try {
      const info = await tf.profile(() => {
        tf.tidy(() => {
          tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(tokens, { training: true }) as tf.Tensor), variables);
        });
      });
      return info.kernelNames;
    } finally {
      delete process.env.RUNNER_FUSED_KERNELS;
    }
  };
  const [fusedKernels, layerKernels] = [await kernels(true), await kernels(false)];
  assert.ok(
    layerKernels.some((k) => /Conv2DBackpropFilter/i.test(k)),
    `layers: ${layerKernels}`,
  );
  assert.not.ok(
    fusedKernels.some((k) => /Conv2DBackprop/i.test(k)),
    `fused: ${fusedKernels}`,
  );
  assert.ok(
    fusedKernels.some((k) => /ScatterNd/i.test(k)),
    `fused: ${fusedKernels}`,
  );
  tf.dispose([tokens, labels]);
  model.dispose();
});

/** Runs `fn` with Math.random drawing from a fresh seeded stream (restored afterwards). */
function seededMath(seed: number): <T>(fn: () => T) => T {
  return (fn) => {
    const original = Math.random;
    Math.random = seededRandom(seed);
    try {
      return fn();
    } finally {
      Math.random = original;
    }
  };
}

test('textcnn: bad shapes are UserErrors', async () => {
  const build = (params: Record<string, unknown>) =>
    models.build({ type: 'textcnn', ...params }, { numClasses: 2, inputShape: [4], vocabSize: 20 });
  assert.throws(
    () => build({ kernel_sizes: [2, 3], num_channels: [4] }),
    (e: unknown) => e instanceof UserError,
  );
  assert.throws(
    () => build({ kernel_sizes: [5], num_channels: [4] }),
    (e: unknown) => e instanceof UserError && /exceed max_len/.test((e as Error).message),
  );
});

test('textcnn: train on the fixture, save, load, same predictions', async () => {
  const { config } = fixtureExperiment();
  const tensorsBefore = tf.memory().numTensors;
  const built = await buildExperiment(config, context);
  const result = await trainLoop(
    built.model,
    built.optimizer,
    built.data,
    { epochs: 3, batchSize: 32, evalBatchSize: 64, shuffle: true, logEverySteps: 10, seed: 1 },
    { metrics() {} },
  );
  assert.ok(result.final.test_accuracy! > 0.75, `test accuracy ${result.final.test_accuracy}`);
  const dir = tempDir();
  await saveModel(built.model, dir);
  const loaded = await loadModel(dir);
  const before = evaluate(built.model, built.data.test, 2, 64);
  const after = evaluate(loaded, built.data.test, 2, 64);
  assert.equal([...after.predictions], [...before.predictions]);
  assert.ok(Math.abs(after.loss - before.loss) < 1e-6);
  loaded.dispose();
  disposeBuilt(built);
  assert.is(tf.memory().numTensors, tensorsBefore, 'every tensor of the test is released');
});

test.run();
