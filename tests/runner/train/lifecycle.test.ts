import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { ConfigDiagnosticsError } from '../../../runner/config/diagnostics.ts';
import { buildExperiment, disposeBuilt, runScheduler } from '../../../runner/run/build.ts';
import { CheckpointStore } from '../../../runner/train/checkpoint.ts';
import { trainLoop, type LoopOptions } from '../../../runner/train/loop.ts';
import type { MetricRecord } from '../../../runner/train/metrics.ts';
import { withSeededMathRandom } from '../../../runner/train/random.ts';
import { fixtureExperiment } from '../../helpers/experiment.ts';
import { tempDir } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };

/** Trains the fixture experiment (with `sets`) through the loop with `options` on top of the basics. */
async function train(sets: string[], options: Partial<LoopOptions>, withCheckpoints = false) {
  const { config } = fixtureExperiment('', ['data.validation={fraction: 0.2}', ...sets]);
  return withSeededMathRandom(config.seed, async (mathRandom) => {
    const built = await buildExperiment(config, context);
    const records: MetricRecord[] = [];
    const messages: string[] = [];
    const tensorsPerEpoch: number[] = [];
    const loopOptions: LoopOptions = {
      epochs: config.train.epochs,
      batchSize: 32,
      evalBatchSize: 64,
      shuffle: true,
      logEverySteps: 2,
      seed: config.seed,
      ...options,
    };
    const scheduler = runScheduler(config, built, context, options.monitor?.goal);
    try {
      const result = await trainLoop(
        built.model,
        built.optimizer,
        built.data,
        loopOptions,
        {
          metrics: (r) => records.push(r),
          message: (m) => messages.push(m),
          epochEnd: (_, info) => tensorsPerEpoch.push(info.numTensors),
        },
        { mathRandom, scheduler, checkpoints: withCheckpoints ? new CheckpointStore(tempDir()) : undefined },
      );
      return { result, records, messages, tensorsPerEpoch, epochs: records.filter((r) => 'epoch_time_s' in r.metrics) };
    } finally {
      disposeBuilt(built);
    }
  });
}

test('validation metrics every epoch; the test split once at the end, unless eval_test_every_epoch', async () => {
  const { epochs, records, result } = await train(['train.epochs=2'], { monitor: { metric: 'val_loss', goal: 'minimize' } });
  assert.equal(
    epochs.map((r) => Object.keys(r.metrics).filter((k) => /^(train|val|test)_/.test(k))),
    [
      ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_macro_f1'],
      ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_macro_f1'],
    ],
  );
  assert.equal(
    epochs.map((r) => r.metrics.epoch),
    [1, 2],
  );
  const final = records.at(-1)!;
  assert.ok('test_macro_f1' in final.metrics && 'test_f1/neg' in final.metrics && 'test_precision/pos' in final.metrics);
  assert.ok('test_accuracy' in final.metrics && 'best_epoch' in final.metrics && 'best_val_loss' in final.metrics);
  assert.is(final.step, epochs.at(-1)!.step);
  assert.is(result.selected!.value, Math.min(...epochs.map((r) => r.metrics.val_loss!)));
});

test("restore_best puts the best epoch's weights back (from checkpoints or from memory): the final test score is that epoch's", async () => {
  // A monitor that prefers the highest training loss picks epoch 1, so the weights must be restored.
  const options: Partial<LoopOptions> = {
    monitor: { metric: 'train_loss', goal: 'maximize' },
    restoreBest: true,
    evalTestEveryEpoch: true,
  };
  for (const withCheckpoints of [true, false]) {
    const { epochs, records, result, messages } = await train(['train.epochs=3'], options, withCheckpoints);
    assert.equal(result.selected, { epoch: 1, value: epochs[0]!.metrics.train_loss!, restored: true });
    assert.match(messages.join('\n'), 'restored the weights of epoch 1');
    const final = records.at(-1)!.metrics;
    assert.is(final.test_loss, epochs[0]!.metrics.test_loss, 'the kept model scores as epoch 1 did');
    assert.is(final.test_accuracy, epochs[0]!.metrics.test_accuracy);
    assert.is(result.final.best_epoch, 1);
  }
});

test('early stopping ends the run FINISHED after patience epochs without improvement, and says why', async () => {
  const { result, epochs, messages } = await train(['train.epochs=6'], {
    monitor: { metric: 'train_loss', goal: 'maximize' },
    earlyStopping: { patience: 2, minDelta: 0 },
    restoreBest: true,
  });
  assert.is(result.status, 'FINISHED');
  assert.is(epochs.length, 3);
  assert.equal(result.stoppedEarly?.epoch, 3);
  assert.match(
    messages.join('\n'),
    /early stopping after epoch 3: train_loss did not improve by more than 0 for 2 epochs \(patience 2; best [\d.]+ at epoch 1\)/,
  );
});

test('tensor count stays flat across epochs with validation, checkpoints and a schedule; nothing leaks after', async () => {
  const before = tf.memory().numTensors;
  const { tensorsPerEpoch } = await train(
    ['train.epochs=4', 'optimizer.schedule={type: cosine, warmup: 1}'],
    { monitor: { metric: 'val_loss', goal: 'minimize' }, restoreBest: true, evalTestEveryEpoch: true },
    true,
  );
  assert.is(tensorsPerEpoch.length, 4);
  assert.ok(
    tensorsPerEpoch.every((n) => n === tensorsPerEpoch[0]),
    `numTensors per epoch: ${tensorsPerEpoch}`,
  );
  assert.is(tf.memory().numTensors, before);
});

test('the schedule drives lr/<group>: per epoch by default, per step with interval step', async () => {
  const perEpoch = await train(['train.epochs=3', 'optimizer.schedule={type: step, step_size: 1, gamma: 0.5}'], {});
  const lrByEpoch = (records: MetricRecord[]) => [
    ...new Map(records.filter((r) => 'lr/default' in r.metrics).map((r) => [r.epoch, r.metrics['lr/default']])).values(),
  ];
  assert.equal(lrByEpoch(perEpoch.records), [0.01, 0.005, 0.0025]);
  const perStep = await train(['train.epochs=1', 'optimizer.schedule={type: exponential, gamma: 0.5, interval: step}'], {
    logEverySteps: 1,
  });
  const lrs = perStep.records.filter((r) => 'lr/default' in r.metrics).map((r) => r.metrics['lr/default']);
  // Logged after step s, before the scheduler's step: 0.01 · 0.5^(s-1).
  assert.equal(
    lrs,
    lrs.map((_, i) => 0.01 * 0.5 ** i),
  );
});

test('lifecycle keys that cannot work are config errors located at their key, before anything loads', () => {
  const problems = (extra: string, sets: string[] = []) => {
    try {
      fixtureExperiment(extra, sets);
      return [];
    } catch (error) {
      assert.instance(error, ConfigDiagnosticsError);
      return (error as ConfigDiagnosticsError).diagnostics.map((d) => `${d.position?.line}:${d.path.join('.')}: ${d.message}`);
    }
  };
  // fixtureExperiment's train line is line 9; tracking line 10; the extra text starts at line 11.
  assert.match(
    problems('', ['train.monitor={metric: val_loss}']).join('\n'),
    "train.monitor.metric: 'val_loss' is not an epoch metric of this run (there is no validation split",
  );
  assert.match(
    problems('', ['train.early_stopping={patience: 2}']).join('\n'),
    'train.early_stopping: early_stopping needs a monitored metric',
  );
  assert.match(
    problems('', ['optimizer.schedule={type: reduce_on_plateau}']).join('\n'),
    'optimizer.schedule.type: reduce_on_plateau needs a monitored metric',
  );
  assert.match(
    problems('', ['train.monitor={metric: test_accuracy}']).join('\n'),
    'test metrics exist per epoch only with train.eval_test_every_epoch: true',
  );
  assert.equal(problems('', ['data.validation={fraction: 0.2}', 'train.early_stopping={patience: 2}']), []);
});

test.run();
