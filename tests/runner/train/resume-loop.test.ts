import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { loadConfig } from '../../../runner/config/load.ts';
import { buildExperiment, disposeBuilt, runScheduler } from '../../../runner/run/build.ts';
import { CheckpointStore } from '../../../runner/train/checkpoint.ts';
import { trainLoop, type LoopOptions, type TrainingState } from '../../../runner/train/loop.ts';
import type { MetricRecord } from '../../../runner/train/metrics.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { imageDatasetFiles } from '../../components/dataset/image-fixtures.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };
const TIMINGS = new Set(['examples_per_sec', 'epoch_time_s', 'eval_time_s', 'test_eval_time_s']);

/**
 * An image run with every random stream in play: shuffling, random crops, flips and colour jitter (the augmentation
 * stream), dropout (Math.random), SGD momentum slots, a step schedule and a validation split.
 */
function imageConfig() {
  const root = writeTree(tempDir(), imageDatasetFiles({ perClass: 12, height: 12, width: 12 }));
  const file = join(
    writeTree(tempDir(), {
      'experiment.yaml': `name: resume-images
seed: 4
data:
  dataset: {type: image_folder, path: ${JSON.stringify(root)}}
  validation: {fraction: 0.25}
  augmentation:
    - {type: random_resized_crop, size: 10}
    - {type: random_horizontal_flip}
    - {type: color_jitter, brightness: 0.3}
    - {type: center_crop, size: 10, apply_to: test}
  batch_size: 6
model: {type: small_cnn, channels: [4], head: {units: [8], dropout: 0.5}}
optimizer: {type: sgd, lr: 0.05, momentum: 0.9, schedule: {type: step, step_size: 1, gamma: 0.7}}
train: {epochs: 4, log_every_steps: 1, eval_test_every_epoch: true}
tracking: false
`,
    }),
    'experiment.yaml',
  );
  return loadConfig(file).config;
}

/** Runs the loop in a fresh build (as a new process would); stops after `stopAfter` epochs when given. */
async function run(checkpoints: CheckpointStore, options: { stopAfter?: number; resume?: boolean }): Promise<MetricRecord[]> {
  const config = imageConfig();
  return withSeededMathRandom(config.seed, async (mathRandom) => {
    const built = await buildExperiment(config, context);
    const loopOptions: LoopOptions = {
      epochs: config.train.epochs,
      batchSize: config.data.batch_size,
      evalBatchSize: 12,
      shuffle: true,
      logEverySteps: 1,
      seed: config.seed,
      evalTestEveryEpoch: true,
      monitor: { metric: 'val_loss', goal: 'minimize' },
      restoreBest: true,
    };
    const scheduler = runScheduler(config, built, context);
    const records: MetricRecord[] = [];
    let epochs = 0;
    try {
      const result = await trainLoop(
        built.model,
        built.optimizer,
        built.data,
        loopOptions,
        { metrics: (r) => records.push(r), epochEnd: () => epochs++, shouldStop: () => epochs === options.stopAfter },
        {
          mathRandom,
          scheduler,
          checkpoints,
          resume: options.resume ? checkpoints.load<TrainingState>('last', () => {}) : undefined,
        },
      );
      assert.is(result.status, options.stopAfter ? 'KILLED' : 'FINISHED');
      return records;
    } finally {
      disposeBuilt(built);
    }
  });
}

const comparable = (records: MetricRecord[]) =>
  records.map((r) => ({ step: r.step, epoch: r.epoch, ...Object.fromEntries(Object.entries(r.metrics).filter(([k]) => !TIMINGS.has(k))) }));

test('images with augmentation, dropout, momentum and a schedule: stopped after epoch 2 and resumed, the metrics of a straight run', async () => {
  const straight = await run(new CheckpointStore(tempDir()), {});
  const store = new CheckpointStore(tempDir());
  const first = await run(store, { stopAfter: 2 });
  assert.is(store.load<TrainingState>('last', () => {}).state.epoch, 2);
  const second = await run(store, { resume: true });
  const untilCheckpoint = first.filter((r) => r.epoch <= 2);
  assert.equal(comparable([...untilCheckpoint, ...second]), comparable(straight));
  // The schedule continued: epoch 3 trains at 0.05 · 0.7².
  const lr3 = second.find((r) => r.epoch === 3 && 'lr/default' in r.metrics)!.metrics['lr/default']!;
  assert.ok(Math.abs(lr3 - 0.05 * 0.7 ** 2) < 1e-12, `lr in epoch 3: ${lr3}`);
});

test.run();
