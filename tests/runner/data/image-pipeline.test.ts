import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { ConfigError } from '../../../runner/config/issues.ts';
import { buildAugmentations, stepsOfKind } from '../../../runner/data/augment.ts';
import { dataWaitReport, ImageBatchSource, ImagePipeline, imageBatchSources } from '../../../runner/data/image-pipeline.ts';
import type { ImageDataset } from '../../../runner/data/types.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { imageDatasetFiles } from '../../components/dataset/image-fixtures.ts';

const context = { configDir: '.', warn() {} };
const steps = (...configs: ({ type: string } & Record<string, unknown>)[]) => stepsOfKind(buildAugmentations(configs, context), 'image');

/** 10 random 12×16 RGB images, two classes. */
function dataset(): ImageDataset {
  const n = 10;
  const pixels = Uint8Array.from({ length: n * 12 * 16 * 3 }, (_, i) => (i * 37) % 256);
  const split = { pixels, labels: Int32Array.from({ length: n }, (_, i) => i % 2), files: [] };
  return { kind: 'image', classes: ['a', 'b'], imageShape: [12, 16, 3], train: split, test: split, source: 'memory' };
}

const lesson = () =>
  steps(
    { type: 'random_resized_crop', size: 8 },
    { type: 'random_horizontal_flip' },
    { type: 'resize', size: 10, apply_to: 'test' },
    { type: 'center_crop', size: 8, apply_to: 'test' },
    { type: 'normalize', scale: [-1, 1] },
  );

test('random steps go to the training path only; deterministic ones follow apply_to', () => {
  const pipeline = ImagePipeline.compose(lesson(), [12, 16, 3]);
  assert.equal(
    pipeline.trainSteps.map((s) => s.step.name),
    ['random_resized_crop', 'random_horizontal_flip', 'normalize'],
  );
  assert.equal(
    pipeline.evalSteps.map((s) => s.step.name),
    ['resize', 'center_crop', 'normalize'],
  );
  assert.equal(pipeline.outputShape, [8, 8, 3]);
  assert.match(pipeline.describe(), 'test: resize → center_crop → normalize');
});

test('paths that end at different sizes, or a step that cannot take its input, are located config errors', () => {
  try {
    ImagePipeline.compose(steps({ type: 'random_resized_crop', size: 8 }, { type: 'center_crop', size: 20 }), [12, 16, 3]);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    const issues = (error as ConfigError).issues;
    assert.equal(
      issues.map((i) => i.path),
      [
        ['data', 'augmentation', 1],
        ['data', 'augmentation', 1],
      ],
    );
    assert.match(issues[0]!.message, 'center_crop (training path): cannot crop 20×20 out of 8×8');
  }
  try {
    ImagePipeline.compose(steps({ type: 'random_resized_crop', size: 8 }), [12, 16, 3]);
    assert.unreachable();
  } catch (error) {
    const [issue] = (error as ConfigError).issues;
    assert.equal(issue!.path, ['data', 'augmentation']);
    assert.match(issue!.message, 'training images come out 8×8×3 but evaluation images 12×16×3');
    assert.match(issue!.hint!, 'apply_to: test');
  }
  try {
    ImagePipeline.compose(steps({ type: 'normalize', scale: [0, 1] }, { type: 'color_jitter', brightness: 0.2 }), [12, 16, 3]);
    assert.unreachable();
  } catch (error) {
    assert.match((error as ConfigError).issues[0]!.message, 'color_jitter works on pixels in [0, 255] but comes after normalize');
  }
});

test('training batches are augmented and seeded; evaluation batches are deterministic; labels follow indices', () => {
  const sources = imageBatchSources(dataset(), lesson(), 5);
  assert.equal(sources.inputShape, [8, 8, 3]);
  const indices = Int32Array.from([3, 0, 7, 7]);
  const read = (training: boolean, source = sources.train) =>
    tf.tidy(() => {
      const { x, y } = source.batch(indices, training);
      return { x: x.arraySync() as number[][][][], y: [...y.dataSync()], shape: x.shape };
    });
  const evalA = read(false);
  assert.equal(evalA.shape, [4, 8, 8, 3]);
  assert.equal(evalA.y, [1, 0, 1, 1]);
  assert.equal(read(false).x, evalA.x, 'evaluation is deterministic');
  assert.equal(evalA.x[2], evalA.x[3], 'the same image twice looks the same in evaluation');
  const first = read(true);
  const second = read(true);
  assert.not.equal(first.x, second.x, 'each training batch draws new augmentations');
  assert.not.equal(first.x[2], first.x[3], 'the same image twice gets different augmentations');
  const values = first.x.flat(3);
  assert.ok(Math.min(...values) >= -1 - 1e-6 && Math.max(...values) <= 1 + 1e-6, 'normalized to [-1, 1]');
  const again = imageBatchSources(dataset(), lesson(), 5);
  assert.equal(read(true, again.train).x, first.x, 'same seed, same augmented batches');
  const other = imageBatchSources(dataset(), lesson(), 6);
  assert.not.equal(read(true, other.train).x, first.x, 'another seed, other batches');
});

test('no tensors leak; training batch time is counted as data wait', () => {
  const sources = imageBatchSources(dataset(), lesson(), 1);
  const source = sources.train as ImageBatchSource;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.tidy(() => void source.batch(Int32Array.from([1, 2, 3]), true));
  tf.tidy(() => void source.batch(Int32Array.from([1, 2, 3]), false));
  assert.is(tf.memory().numTensors, before);
  const wait = source.dataWait();
  assert.is(wait.batches, 3);
  assert.ok(wait.seconds > 0);
  const report = dataWaitReport(wait, [{ epoch_time_s: wait.seconds * 10 }, {}]);
  assert.ok(Math.abs(report.fraction - 0.1) < 1e-9);
});

test('the sample grid is a PNG: one row per image, the evaluation view then the augmented draws', () => {
  const sources = imageBatchSources(dataset(), lesson(), 1);
  const source = sources.train as ImageBatchSource;
  const png = PNG.sync.read(source.sampleGrid({ rows: 3, columns: 4 }));
  assert.equal([png.width, png.height], [5 * (8 + 4), 3 * (8 + 4)]);
  // The border (2 px) is white; the first cell shows the evaluation view of image 1 (not normalized).
  assert.equal([...png.data.subarray(0, 4)], [255, 255, 255, 255]);
  const evalView = tf.tidy(() => sources.train.batch(Int32Array.from([Math.floor((0.5 * 10) / 3)]), false).x.arraySync()) as number[][][][];
  const expected = Math.round(((evalView[0]![0]![0]![0]! + 1) / 2) * 255);
  const actual = png.data[(2 * png.width + 2) * 4]!;
  assert.ok(Math.abs(actual - expected) <= 1, `${actual} vs ${expected}`);
  assert.equal(source.dataWait().batches, 0, 'drawing the grid does not count as training');
});

const e2eConfig = (augmentation: string) => `name: images-e2e
seed: 1
data:
  dataset: {type: image_folder, path: data, image_size: [12, 16]}
  augmentation:
${augmentation}
  batch_size: 4
model: {type: small_cnn, channels: [4]}
optimizer: {type: sgd, lr: 0.05, weight_decay: 0.001, param_groups: [{name: head, match: ['^head_'], lr_mult: 10}]}
train: {epochs: 2}
tracking: false
`;

test('end to end: runner run on an image folder writes the augmentation grid and the data-wait share', async () => {
  const dir = writeTree(tempDir(), {
    ...Object.fromEntries(Object.entries(imageDatasetFiles()).map(([name, data]) => [`data/${name}`, data])),
    'ok.yaml': e2eConfig(`    - {type: random_resized_crop, size: 8}
    - {type: random_horizontal_flip}
    - {type: center_crop, size: 8, apply_to: test}
    - {type: normalize, scale: [-1, 1]}`),
    'bad.yaml': e2eConfig(`    - {type: random_resized_crop, size: 8}
    - {type: normalize, scale: [-1, 1]}`),
  });
  const runs = join(dir, 'runs');
  const dry = await runCli(['run', join(dir, 'ok.yaml'), '--runs-dir', runs, '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(
    dry.stderr,
    'augmentation: train: random_resized_crop → random_horizontal_flip → normalize; test: center_crop → normalize\n',
  );
  const ok = await runCli(['run', join(dir, 'ok.yaml'), '--runs-dir', runs]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout + ok.stderr,
    'augmentation: train: random_resized_crop → random_horizontal_flip → normalize; test: center_crop → normalize',
  );
  const [runId] = readdirSync(join(runs, 'images-e2e'));
  const runDir = join(runs, 'images-e2e', runId!);
  const grid = PNG.sync.read(readFileSync(join(runDir, 'augmentation_grid.png')));
  assert.equal([grid.width, grid.height], [8 * 12, 6 * 12]);
  const wait = JSON.parse(readFileSync(join(runDir, 'data_wait.json'), 'utf8')) as { fraction: number; batches: number };
  assert.is(wait.batches, 4); // 8 images, batches of 4, 2 epochs
  assert.ok(wait.fraction > 0 && wait.fraction < 1, `${wait.fraction}`);
  const bad = await runCli(['run', join(dir, 'bad.yaml'), '--runs-dir', runs]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /bad\.yaml:\d+:\d+ .*data\.augmentation: training images come out 8×8×3 but evaluation images 12×16×3/);
});

test.run();
