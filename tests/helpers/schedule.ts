// Driving learning-rate schedules in tests: a real two-group GroupedOptimizer and the rates it reports.
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { optimizers } from '../../components/optimizer/index.ts';
import { schedules } from '../../components/schedule/index.ts';
import { GroupedOptimizer } from '../../runner/train/optimizer.ts';
import { resolveParamGroups } from '../../runner/train/param-groups.ts';
import { LrScheduler, type ScheduleContext } from '../../runner/train/schedule.ts';

/** Initial rates of the two trainable groups: the default group (body) and the head with lr_mult 10. */
export const BASE = { default: 0.001, head: 0.01 };

/** A build context for schedules: `epochs` epochs of `stepsPerEpoch` steps. */
export function scheduleContext(overrides: Partial<ScheduleContext> = {}): ScheduleContext {
  return { configDir: '.', warn() {}, epochs: 10, stepsPerEpoch: 1, ...overrides };
}

/** A real SGD GroupedOptimizer over body (default, 0.001), a frozen group and head (×10). */
export function twoGroupOptimizer(): { optimizer: GroupedOptimizer; model: tf.LayersModel } {
  const input = tf.input({ shape: [2] });
  const body = tf.layers.dense({ units: 2, name: 'body' }).apply(input) as tf.SymbolicTensor;
  const ice = tf.layers.dense({ units: 2, name: 'ice' }).apply(body) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1, name: 'head' }).apply(ice) as tf.SymbolicTensor });
  const spec = optimizers.build({ type: 'sgd', lr: BASE.default }, { configDir: '.', warn() {} });
  const plan = resolveParamGroups(model, {
    lr: spec.lr,
    weightDecay: 0,
    groups: [
      { name: 'head', match: ['^head/'], lr_mult: 10 },
      { name: 'ice', match: ['^ice/'], trainable: false },
    ],
  });
  return { optimizer: new GroupedOptimizer(spec.rule, plan.groups), model };
}

/** A scheduler of `config` over a fresh two-group optimizer. */
export function scheduled(config: { type: string } & Record<string, unknown>, context = scheduleContext()) {
  const { optimizer, model } = twoGroupOptimizer();
  const scheduler = new LrScheduler(schedules.build(config, context), optimizer);
  return { optimizer, model, scheduler };
}

/** Rates of the two trainable groups at t = 0..epochs of an epoch schedule (one afterEpoch per t, with `monitored[t - 1]`). */
export function epochRates(config: { type: string } & Record<string, unknown>, epochs: number, monitored: number[] = []) {
  const { optimizer, model, scheduler } = scheduled(config, scheduleContext({ epochs }));
  const rates = [optimizer.learningRates()];
  for (let t = 1; t <= epochs; t++) {
    scheduler.afterEpoch(monitored[t - 1]);
    rates.push(optimizer.learningRates());
  }
  optimizer.dispose();
  model.dispose();
  return rates;
}

/** Asserts each group's rate at every t is its initial rate times `factors[t]` (to float precision), frozen at 0. */
export function assertFactors(rates: Record<string, number>[], factors: number[]): void {
  assert.is(rates.length, factors.length, 'number of rates');
  rates.forEach((r, t) => assertRates(r, { default: BASE.default * factors[t]!, head: BASE.head * factors[t]! }, `t=${t}`));
}

/** Asserts the reported rates equal `expected` (relative 1e-12), and the frozen group reports 0. */
export function assertRates(actual: Record<string, number>, expected: Record<string, number>, where: string): void {
  assert.equal(Object.keys(actual).sort(), ['default', 'head', 'ice'], `${where}: groups`);
  assert.is(actual.ice, 0, `${where}: the frozen group`);
  for (const [name, rate] of Object.entries(expected)) {
    const ok = Math.abs(actual[name]! - rate) <= 1e-12 * Math.max(Math.abs(rate), 1e-12);
    assert.ok(ok, `${where}: ${name} is ${actual[name]}, expected ${rate}`);
  }
}
