import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, disposeBuilt } from '../../../runner/run/build.ts';
import { trainLoop, type LoopOptions, type StepProgress } from '../../../runner/train/loop.ts';
import type { MetricRecord } from '../../../runner/train/metrics.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';
import { RunFailedError } from '../../../runner/errors.ts';

const context = { configDir: '.', warn() {} };

async function train(
  sets: string[],
  epochs: number,
  onEpoch?: (numTensors: number) => void,
  more: { logEverySteps?: number; progress?: (p: StepProgress) => void } = {},
) {
  const { config } = fixtureExperiment('', sets);
  return withSeededMathRandom(config.seed, async () => {
    const built = await buildExperiment(config, context);
    const records: MetricRecord[] = [];
    const options: LoopOptions = {
      epochs,
      batchSize: 32,
      evalBatchSize: 64,
      shuffle: true,
      logEverySteps: more.logEverySteps ?? 5,
      seed: config.seed,
    };
    try {
      const result = await trainLoop(built.model, built.optimizer, built.data, options, {
        metrics: (r) => records.push(r),
        epochEnd: (_, info) => onEpoch?.(info.numTensors),
        progress: more.progress,
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

/** Counts reads from the device (every way a tensor's values come back to JavaScript) while `body` runs. */
async function countingReads<T>(body: (reads: () => number) => Promise<T>): Promise<T> {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const methods = ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'];
  const originals = methods.map((m) => proto[m]!);
  let reads = 0;
  methods.forEach((m, i) => {
    proto[m] = function (this: unknown, ...args: unknown[]) {
      reads++;
      return originals[i]!.apply(this, args);
    };
  });
  try {
    return await body(() => reads);
  } finally {
    methods.forEach((m, i) => (proto[m] = originals[i]!));
  }
}

test('training reads losses back only at log steps and at the end of each epoch, not per step', async () => {
  for (const logEverySteps of [3, 1000]) {
    const readsAtStep: Array<{ epoch: number; step: number; reads: number }> = [];
    let steps = 0;
    await countingReads(async (reads) => {
      let last = reads();
      await train([], 2, undefined, {
        logEverySteps,
        progress: (p) => {
          if (p.stepInEpoch === 1) last = reads(); // epoch-end work (evaluation, records) happened before
          steps = p.stepsInEpoch;
          readsAtStep.push({ epoch: p.epoch, step: p.stepInEpoch, reads: reads() - last });
          last = reads();
        },
      });
    });
    assert.is(steps, 10);
    for (const { epoch, step, reads } of readsAtStep) {
      const globalStep = (epoch - 1) * steps + step;
      const expected = step > 1 && (globalStep % logEverySteps === 0 || step === steps) ? 1 : 0;
      if (step > 1) assert.is(reads, expected, `log every ${logEverySteps}: reads before progress of epoch ${epoch} step ${step}`);
    }
    const perEpoch = (epoch: number) => readsAtStep.filter((r) => r.epoch === epoch && r.step > 1).reduce((n, r) => n + r.reads, 0);
    assert.is(perEpoch(1), logEverySteps === 3 ? 4 : 1); // steps 3, 6, 9 and the epoch's last
  }
});

test('metrics are identical whether losses are read every step or once per log window', async () => {
  const everyStep = await train([], 2, undefined, { logEverySteps: 1 });
  const windowed = await train([], 2, undefined, { logEverySteps: 4 });
  const epochs = (records: MetricRecord[]) =>
    records
      .filter((r) => !('batch_loss' in r.metrics))
      .map((r) => ({ step: r.step, ...r.metrics, examples_per_sec: 0, epoch_time_s: 0, eval_time_s: 0, test_eval_time_s: 0 }));
  assert.equal(epochs(windowed.records), epochs(everyStep.records));
  // A window's batch_loss is the size-weighted mean of its steps' losses.
  const perStep = everyStep.records.filter((r) => 'batch_loss' in r.metrics);
  const window = windowed.records.find((r) => r.step === 4)!;
  const firstFour = perStep.slice(0, 4).map((r) => r.metrics.batch_loss!);
  assert.ok(Math.abs(window.metrics.batch_loss! - firstFour.reduce((a, b) => a + b, 0) / 4) < 1e-12);
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
