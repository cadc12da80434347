import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { assertRates, epochRates, scheduleContext, scheduled } from '../../helpers/schedule.ts';

/** Rates of [default, head] after each epoch, as a compact list for hand-traced expectations. */
const pairs = (rates: Record<string, number>[]) => rates.map((r) => [r.default!, r.head!]);

function assertPairs(actual: number[][], expected: number[][]) {
  assert.is(actual.length, expected.length);
  expected.forEach(([d, h], t) =>
    assertRates({ default: actual[t]![0]!, head: actual[t]![1]!, ice: 0 }, { default: d!, head: h! }, `t=${t}`),
  );
}

test('reduce_on_plateau (min, rel): patience, cooldown and min_lr, traced by hand from PyTorch code', () => {
  const config = { type: 'reduce_on_plateau', factor: 0.5, patience: 2, threshold: 0.1, cooldown: 1, min_lr: 0.0002 };
  // prettier-ignore
  const values = [1.0, 0.95, 0.95, 0.95, 0.99, 0.99, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  const A = [0.001, 0.01];
  const B = [0.0005, 0.005];
  const C = [0.00025, 0.0025];
  const D = [0.0002, 0.00125]; // default: max(0.000125, min_lr)
  const E = [0.0002, 0.000625]; // default already at min_lr: unchanged
  // prettier-ignore
  assertPairs(pairs(epochRates(config, values.length, values)), [
    A,
    A, // e1 1.0: best 1
    A, // e2 0.95: not < 1 · (1 − 0.1) = 0.9, bad 1
    A, // e3 bad 2
    B, // e4 bad 3 > patience 2: × 0.5, cooldown 1
    B, // e5 0.99: bad 1, but in cooldown: counter 0, bad 0
    B, // e6 bad 1
    B, // e7 0.5 < 0.9: best 0.5
    B, // e8 bad 1
    B, // e9 bad 2
    C, // e10 bad 3: × 0.5
    C, // e11 cooldown
    C, C, // e12, e13 bad 1, 2
    D, // e14 bad 3: default hits min_lr
    D, D, D, // e15 cooldown, e16 bad 1, e17 bad 2
    E, // e18: default stays at min_lr, head × 0.5
  ]);
});

test('reduce_on_plateau: a reduction not larger than eps is skipped, per group', () => {
  // default: 0.001 → 0.0001 changes by 0.0009 < eps, skipped; head: 0.01 → 0.001 changes by 0.009 > eps.
  const rates = epochRates({ type: 'reduce_on_plateau', patience: 0, eps: 0.004 }, 2, [1, 1]);
  assertPairs(pairs(rates), [
    [0.001, 0.01],
    [0.001, 0.01],
    [0.001, 0.001],
  ]);
});

test('reduce_on_plateau (min, abs): better means below best − threshold', () => {
  const rates = epochRates({ type: 'reduce_on_plateau', patience: 0, threshold: 0.1, threshold_mode: 'abs' }, 4, [1, 0.95, 0.85, 0.8]);
  // e1 best 1; e2 0.95 ≥ 0.9: reduce; e3 0.85 < 0.9: best 0.85; e4 0.8 ≥ 0.75: reduce.
  assertPairs(pairs(rates), [
    [0.001, 0.01],
    [0.001, 0.01],
    [0.0001, 0.001],
    [0.0001, 0.001],
    [0.00001, 0.0001],
  ]);
});

/** Rates of a plateau schedule in a run whose monitor is maximized. */
function maximizing(config: Record<string, unknown>, values: number[]) {
  const { optimizer, scheduler } = scheduled(
    { type: 'reduce_on_plateau', patience: 0, ...config },
    scheduleContext({ monitorGoal: 'maximize' }),
  );
  return [optimizer.learningRates(), ...values.map((v) => (scheduler.afterEpoch(v), optimizer.learningRates()))];
}

test('reduce_on_plateau (max, abs) when the run maximizes its monitor: better means above best + threshold', () => {
  // e1 best 0.5; e2 0.54 ≤ 0.55: reduce; e3 0.6 > 0.55: best; e4 0.6 ≤ 0.65: reduce.
  assertPairs(pairs(maximizing({ threshold: 0.05, threshold_mode: 'abs' }, [0.5, 0.54, 0.6, 0.6])), [
    [0.001, 0.01],
    [0.001, 0.01],
    [0.0001, 0.001],
    [0.0001, 0.001],
    [0.00001, 0.0001],
  ]);
});

test('reduce_on_plateau (max, rel): better means above best · (1 + threshold)', () => {
  // e1 best 1; e2 1.05 ≤ 1.1: reduce; e3 1.2 > 1.1: best.
  assertPairs(pairs(maximizing({ threshold: 0.1 }, [1, 1.05, 1.2])), [
    [0.001, 0.01],
    [0.001, 0.01],
    [0.0001, 0.001],
    [0.0001, 0.001],
  ]);
});

test('reduce_on_plateau with the defaults (factor 0.1, patience 10): the 11th epoch without improvement reduces', () => {
  const values = [1, ...Array<number>(11).fill(1)];
  const rates = pairs(epochRates({ type: 'reduce_on_plateau' }, values.length, values));
  assert.equal(rates[11], [0.001, 0.01]);
  assertPairs([rates[12]!], [[0.0001, 0.001]]);
});

test('reduce_on_plateau needs the monitored value: afterEpoch() without one throws; afterStep() does nothing', () => {
  const { optimizer, scheduler } = scheduled({ type: 'reduce_on_plateau' });
  scheduler.afterStep();
  assert.equal(optimizer.learningRates(), { default: 0.001, ice: 0, head: 0.01 });
  assert.throws(() => scheduler.afterEpoch(), /reduce_on_plateau needs the monitored metric/);
});

test.run();
