import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../../runner/config/issues.ts';
import { AugmentedBatchSource, buildAugmentations, stepsOfKind } from '../../../runner/data/augment.ts';
import { TensorBatchSource } from '../../../runner/data/batches.ts';
import { buildExperiment, disposeBuilt } from '../../../runner/run/build.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';

const context = { configDir: '.', warn() {} };

test('a step of the wrong kind for the dataset is a config error at its place in the list', () => {
  const steps = buildAugmentations(
    [{ type: 'token_dropout', rate: 0.1 }, { type: 'random_horizontal_flip' }, { type: 'random_mask' }],
    context,
  );
  try {
    stepsOfKind(steps, 'text');
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    const [issue] = (error as ConfigError).issues;
    assert.equal(issue!.path, ['data', 'augmentation', 1]);
    assert.match(issue!.message, 'random_horizontal_flip is an image augmentation, but the dataset holds texts');
  }
  assert.throws(
    () => stepsOfKind(steps, 'image'),
    (e: ConfigError) => e.issues.length === 2,
  );
});

test('bad step params found while building are config errors at the step', () => {
  try {
    buildAugmentations([{ type: 'random_horizontal_flip' }, { type: 'normalize', scale: [-1, 1], mean: [0.5], std: [0.5] }], context);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.equal((error as ConfigError).issues[0]!.path, ['data', 'augmentation', 1]);
    assert.match((error as ConfigError).issues[0]!.message, 'normalize: give either mean and std');
  }
});

test('AugmentedBatchSource changes training batches only', () => {
  const ids = tf.tensor2d(
    [
      [5, 6, 7, 0],
      [8, 9, 0, 0],
    ],
    [2, 4],
    'int32',
  );
  const source = new AugmentedBatchSource(new TensorBatchSource(ids, Int32Array.from([0, 1])), (x) => tf.mul(x, tf.scalar(-1, 'int32')));
  const read = (training: boolean) => tf.tidy(() => source.batch(Int32Array.from([1, 0]), training).x.arraySync());
  assert.equal(read(false), [
    [8, 9, 0, 0],
    [5, 6, 7, 0],
  ]);
  assert.equal(read(true), [
    [-8, -9, 0, 0],
    [-5, -6, -7, 0],
  ]);
  assert.is(source.count, 2);
  const before = tf.memory().numTensors;
  tf.tidy(() => void source.batch(Int32Array.from([0]), true));
  assert.is(tf.memory().numTensors, before);
  source.dispose();
});

test('text configs: data.augmentation runs on training batches of token ids, seeded; evaluation is untouched', async () => {
  const build = (sets: string[]) => {
    const { config } = fixtureExperiment('', sets);
    return withSeededMathRandom(config.seed, () => buildExperiment(config, context));
  };
  const plain = await build([]);
  const augmented = await build(['data.augmentation=[{type: random_mask, rate: 0.5}, {type: token_dropout, rate: 0.2}]']);
  const indices = Int32Array.from({ length: 16 }, (_, i) => i);
  const ids = (built: typeof plain, training: boolean) =>
    tf.tidy(() => built.data.train.batch(indices, training).x.arraySync() as number[][]);
  assert.equal(ids(augmented, false), ids(plain, false));
  const original = ids(plain, true);
  const changed = ids(augmented, true);
  const words = (rows: number[][]) => rows.flat().filter((t) => t !== 0).length;
  const unknown = (rows: number[][]) => rows.flat().filter((t) => t === 1).length;
  assert.ok(words(changed) < words(original) * 0.9, 'token_dropout removed words');
  assert.ok(unknown(changed) > unknown(original) + words(original) * 0.3, 'random_mask made words <unk>');
  const again = await build(['data.augmentation=[{type: random_mask, rate: 0.5}, {type: token_dropout, rate: 0.2}]']);
  assert.equal(ids(again, true), changed, 'same seed, same augmented batch');
  assert.is(
    tf.tidy(() => augmented.data.train.batch(indices, true).x.dtype),
    'int32',
  );
  for (const built of [plain, augmented, again]) disposeBuilt(built);
});

test('an image step in a text config fails before training, located at data.augmentation[i]', async () => {
  const { config } = fixtureExperiment('', ['data.augmentation=[{type: random_swap}, {type: center_crop, size: 4}]']);
  try {
    await buildExperiment(config, context);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.equal((error as ConfigError).issues[0]!.path, ['data', 'augmentation', 1]);
  }
});

test.run();
