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
