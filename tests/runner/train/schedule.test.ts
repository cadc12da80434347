import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { buildLrScheduler } from '../../../runner/run/build.ts';
import { variableOf } from '../../../runner/train/optimizer.ts';
import type { ScheduleState } from '../../../runner/train/schedule.ts';
import { BASE, scheduleContext, scheduled, twoGroupOptimizer } from '../../helpers/schedule.ts';

const context = scheduleContext({ epochs: 4, stepsPerEpoch: 3 });

test('interval epoch: afterStep() leaves the rates, afterEpoch() advances t; interval step: the other way round', () => {
  const perEpoch = scheduled({ type: 'exponential', gamma: 0.5 }, context);
  const perStep = scheduled({ type: 'exponential', gamma: 0.5, interval: 'step' }, context);
  for (let step = 0; step < 3; step++) [perEpoch, perStep].forEach(({ scheduler }) => scheduler.afterStep());
  assert.equal(perEpoch.optimizer.learningRates(), { default: 0.001, ice: 0, head: 0.01 });
  assert.equal(perStep.optimizer.learningRates(), { default: 0.001 * 0.125, ice: 0, head: 0.01 * 0.125 });
  [perEpoch, perStep].forEach(({ scheduler }) => scheduler.afterEpoch(1));
  assert.equal(perEpoch.optimizer.learningRates(), { default: 0.0005, ice: 0, head: 0.005 });
  assert.equal(perStep.optimizer.learningRates(), { default: 0.001 * 0.125, ice: 0, head: 0.01 * 0.125 });
  assert.equal(perStep.scheduler.state().t, 3);
});

test('the t = 0 rates are set at construction (warm-up starts low), and the frozen group is never touched', () => {
  const { optimizer, scheduler } = scheduled({ type: 'linear', warmup: 2, start_factor: 0.5 }, context);
  assert.equal(optimizer.learningRates(), { default: 0.0005, ice: 0, head: 0.005 });
  assert.equal(Object.keys(scheduler.state().rates).sort(), ['default', 'head']);
  assert.equal(optimizer.baseLearningRates(), BASE);
});

test('the optimizer updates with the scheduled rate: real SGD steps on a tiny model follow learningRates()', () => {
  const { optimizer, model, scheduler } = scheduled({ type: 'step', step_size: 1, gamma: 0.5, interval: 'step' }, context);
  const kernel = variableOf(model.getLayer('head').trainableWeights[0]!);
  const frozen = variableOf(model.getLayer('ice').trainableWeights[0]!);
  const frozenBefore = Array.from(frozen.dataSync());
  const grads = () => ({ [kernel.name]: tf.ones(kernel.shape) });
  for (const lr of [0.01, 0.005, 0.0025]) {
    assert.is(optimizer.learningRates().head, lr);
    const before = Array.from(kernel.dataSync());
    optimizer.apply(grads());
    Array.from(kernel.dataSync()).forEach((after, i) => assert.ok(Math.abs(before[i]! - lr - after) < 1e-6, `step of ${lr}`));
    scheduler.afterStep();
  }
  assert.equal(Array.from(frozen.dataSync()), frozenBefore);
  optimizer.dispose();
  model.dispose();
});

/** Drives a scheduler through `epochs` epochs of 3 steps, with a monitored value per epoch; returns the rates after each call. */
function drive(
  scheduler: ReturnType<typeof scheduled>['scheduler'],
  optimizer: ReturnType<typeof scheduled>['optimizer'],
  values: number[],
) {
  const rates: Record<string, number>[] = [];
  for (const value of values) {
    for (let step = 0; step < 3; step++) {
      scheduler.afterStep();
      rates.push(optimizer.learningRates());
    }
    scheduler.afterEpoch(value);
    rates.push(optimizer.learningRates());
  }
  return rates;
}

const resumable: [string, { type: string } & Record<string, unknown>][] = [
  ['cosine with warm-up per step', { type: 'cosine', interval: 'step', warmup: 3, warmup_start_factor: 0.2, eta_min: 1e-5 }],
  ['multistep per epoch', { type: 'multistep', milestones: [1, 3] }],
  [
    'reduce_on_plateau in cooldown',
    { type: 'reduce_on_plateau', factor: 0.5, patience: 1, cooldown: 2, threshold_mode: 'abs', threshold: 0.01 },
  ],
];

for (const [what, config] of resumable) {
  test(`state() and restore() mid-way continue exactly like an uninterrupted scheduler: ${what}`, () => {
    const run = scheduleContext({ epochs: 6, stepsPerEpoch: 3 });
    // Plateau (patience 1): reduced after the third epoch, so the state is saved in cooldown.
    const values = [1, 1, 1, 0.95, 0.95, 0.95];
    const whole = scheduled(config, run);
    const expected = drive(whole.scheduler, whole.optimizer, values);
    const first = scheduled(config, run);
    drive(first.scheduler, first.optimizer, values.slice(0, 3));
    const saved = JSON.parse(JSON.stringify(first.scheduler.state())) as ScheduleState;
    if (saved.plateau) assert.equal(saved.plateau, { best: 1, num_bad_epochs: 0, cooldown_counter: 2 });
    const resumed = scheduled(config, run);
    resumed.scheduler.restore(saved);
    assert.equal(resumed.optimizer.learningRates(), first.optimizer.learningRates());
    const rest = drive(resumed.scheduler, resumed.optimizer, values.slice(3));
    assert.equal(rest, expected.slice(3 * 4));
    assert.not.equal(expected[0], expected.at(-1), 'the rates change over the run');
    assert.equal(resumed.scheduler.state(), whole.scheduler.state());
  });
}

test('plateau state is plain JSON, with the initial best (±inf) as a string', () => {
  const { scheduler } = scheduled({ type: 'reduce_on_plateau' }, context);
  assert.equal(scheduler.state(), {
    interval: 'epoch',
    t: 0,
    rates: BASE,
    plateau: { best: 'inf', num_bad_epochs: 0, cooldown_counter: 0 },
  });
  scheduler.afterEpoch(0.7);
  assert.equal(scheduler.state().plateau, { best: 0.7, num_bad_epochs: 0, cooldown_counter: 0 });
  const max = scheduled({ type: 'reduce_on_plateau' }, scheduleContext({ monitorGoal: 'maximize' }));
  assert.is(max.scheduler.state().plateau?.best, '-inf');
});

test('restore() refuses a state of another schedule kind, interval or set of groups', () => {
  const { scheduler } = scheduled({ type: 'cosine' }, context);
  const state = scheduler.state();
  const other = scheduled({ type: 'reduce_on_plateau' }, context).scheduler;
  assert.throws(() => other.restore(state), /schedule state is of a closed_form schedule stepped every epoch/);
  assert.throws(() => scheduler.restore({ ...state, interval: 'step' }), /stepped every step/);
  assert.throws(
    () => scheduler.restore({ ...state, rates: { default: 0.001 } }),
    /rates of groups default, but the optimizer's trainable groups are default, head/,
  );
});

test('buildLrScheduler: constant rates without a schedule; the configured schedule otherwise', () => {
  const { optimizer } = twoGroupOptimizer();
  const constant = buildLrScheduler({ type: 'adam', lr: 0.001 }, optimizer, context);
  constant.afterEpoch(1);
  assert.equal(optimizer.learningRates(), { default: 0.001, ice: 0, head: 0.01 });
  const step = buildLrScheduler({ type: 'adam', lr: 0.001, schedule: { type: 'step', step_size: 1 } }, optimizer, context);
  step.afterEpoch(1);
  assert.equal(step.state().t, 1);
  assert.equal(optimizer.learningRates().head, 0.01 * 0.1);
});

test('setLearningRates: unknown or frozen groups and invalid rates throw', () => {
  const { optimizer } = twoGroupOptimizer();
  assert.throws(() => optimizer.setLearningRates({ ice: 0.1 }), /no trainable parameter group 'ice' \(groups: default, head\)/);
  assert.throws(() => optimizer.setLearningRates({ head: Number.NaN }), /must be a finite number/);
  optimizer.setLearningRates({ head: 0.5 });
  assert.equal(optimizer.learningRates(), { default: 0.001, ice: 0, head: 0.5 });
  assert.equal(optimizer.baseLearningRates(), BASE);
});

test.run();
