import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, disposeBuilt } from '../../../runner/run/build.ts';
import { trainLoop, type LoopOptions } from '../../../runner/train/loop.ts';
import type { MetricRecord } from '../../../runner/train/metrics.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';
import { RunFailedError } from '../../../runner/errors.ts';

const context = { configDir: '.', warn() {} };

async function train(sets: string[], epochs: number, onEpoch?: (numTensors: number) => void) {
  const { config } = fixtureExperiment('', sets);
  return withSeededMathRandom(config.seed, async () => {
    const built = await buildExperiment(config, context);
    const records: MetricRecord[] = [];
    const options: LoopOptions = { epochs, batchSize: 32, evalBatchSize: 64, shuffle: true, logEverySteps: 5, seed: config.seed };
    try {
      const result = await trainLoop(built.model, built.optimizer, built.data, options, {
        metrics: (r) => records.push(r),
        epochEnd: (_, info) => onEpoch?.(info.numTensors),
      });
      return { result, records };
    } finally {
      disposeBuilt(built);
    }
  });
}

test('the same seed gives identical metrics; another seed does not', async () => {
  const a = await train([], 2);
  const b = await train([], 2);
  const c = await train(['seed=4'], 2);
  const values = (records: MetricRecord[]) =>
    records.map((r) => ({ step: r.step, ...r.metrics, examples_per_sec: 0, epoch_time_s: 0, eval_time_s: 0, test_eval_time_s: 0 }));
  assert.equal(values(a.records), values(b.records));
  assert.not.equal(values(a.records), values(c.records));
});

test('tensor count is flat across epochs, and nothing leaks after the run', async () => {
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  await train([], 3, (n) => counts.push(n));
  assert.is(counts.length, 3);
  assert.is(counts[0], counts[2], `numTensors per epoch: ${counts}`);
  assert.is(tf.memory().numTensors, before);
});

test('metrics: step records every log_every_steps, one epoch record per epoch, learning rate per group', async () => {
  const { records, result } = await train(['optimizer.param_groups=[{name: head, match: ["^dense/"], lr_mult: 10}]'], 2);
  const stepRecords = records.filter((r) => 'batch_loss' in r.metrics);
  const epochRecords = records.filter((r) => 'epoch_time_s' in r.metrics);
  assert.equal(
    stepRecords.map((r) => r.step),
    [5, 10, 15, 20],
  );
  assert.equal(
    epochRecords.map((r) => [r.epoch, r.step]),
    [
      [1, 10],
      [2, 20],
    ],
  );
  assert.equal([stepRecords[0]!.metrics['lr/default'], stepRecords[0]!.metrics['lr/head']], [0.01, 0.1]);
  assert.is(result.status, 'FINISHED');
  assert.ok(result.final.test_accuracy! > 0.6, `test accuracy ${result.final.test_accuracy}`);
});

test('a NaN loss stops the run with RunFailedError naming the step', async () => {
  try {
    await train(['optimizer.lr=1e30'], 2);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, RunFailedError);
    assert.match((error as Error).message, /at step \d+/);
  }
});

test('shouldStop ends the loop KILLED after the current step', async () => {
  const { config } = fixtureExperiment();
  const built = await buildExperiment(config, context);
  let steps = 0;
  const result = await trainLoop(
    built.model,
    built.optimizer,
    built.data,
    { epochs: 2, batchSize: 32, evalBatchSize: 64, shuffle: true, logEverySteps: 5, seed: 0 },
    {
      metrics() {},
      progress: () => steps++,
      shouldStop: () => steps >= 3,
    },
  );
  disposeBuilt(built);
  assert.equal([result.status, result.steps], ['KILLED', 3]);
});

test.run();
