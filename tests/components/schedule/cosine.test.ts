import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { UserError } from '../../../runner/errors.ts';
import { assertFactors, assertRates, BASE, epochRates, scheduleContext, scheduled } from '../../helpers/schedule.ts';

const range = (n: number) => Array.from({ length: n }, (_, t) => t);

test("cosine: η0 · (1 + cos(π t / T_max)) / 2 with t_max = the run's epochs by default (CosineAnnealingLR)", () => {
  const rates = epochRates({ type: 'cosine' }, 10);
  assertFactors(
    rates,
    range(11).map((t) => (1 + Math.cos((Math.PI * t) / 10)) / 2),
  );
  assert.is(rates[10]!.head, 0);
});

test('cosine with eta_min: eta_min + (η0 − eta_min) · (1 + cos(π t / T_max)) / 2, eta_min absolute for every group', () => {
  const etaMin = 0.0001;
  const rates = epochRates({ type: 'cosine', t_max: 4, eta_min: etaMin }, 8);
  const cosine = (base: number, t: number) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / 4))) / 2;
  // Past t_max PyTorch's cosine rises again (the closed form is periodic); so does ours.
  rates.forEach((r, t) => assertRates(r, { default: cosine(BASE.default, t), head: cosine(BASE.head, t) }, `t=${t}`));
  assertRates(rates[4]!, { default: etaMin, head: etaMin }, 't_max');
  assertRates(rates[8]!, BASE, '2 t_max');
});

test('cosine with warmup: SequentialLR(LinearLR(start, 1, warmup), CosineAnnealingLR(t_max − warmup)) with the milestone at warmup', () => {
  const rates = epochRates({ type: 'cosine', t_max: 10, warmup: 2, warmup_start_factor: 0.1 }, 10);
  // LinearLR factor start + (1 − start) · t / warmup for t < warmup; then cosine from its own t = 0 over T_max = 8.
  assertFactors(rates, [0.1, 0.1 + 0.9 / 2, ...range(9).map((t) => (1 + Math.cos((Math.PI * t) / 8)) / 2)]);
});

test('cosine with interval step: t counts optimizer steps and t_max defaults to epochs × steps per epoch', () => {
  const { optimizer, scheduler } = scheduled({ type: 'cosine', interval: 'step' }, scheduleContext({ epochs: 2, stepsPerEpoch: 3 }));
  const rates = [optimizer.learningRates()];
  for (let epoch = 0; epoch < 2; epoch++) {
    for (let step = 0; step < 3; step++) {
      scheduler.afterStep();
      rates.push(optimizer.learningRates());
    }
    scheduler.afterEpoch(0.5);
    assert.equal(optimizer.learningRates(), rates.at(-1), 'afterEpoch does not move a step schedule');
  }
  assertFactors(
    rates,
    range(7).map((t) => (1 + Math.cos((Math.PI * t) / 6)) / 2),
  );
});

test('cosine: a warmup not shorter than t_max is a UserError naming both keys', () => {
  const fails = (config: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => scheduled({ type: 'cosine', ...config }, scheduleContext({ epochs: 5 })),
      (e: unknown) => e instanceof UserError && message.test((e as Error).message),
    );
  fails({ warmup: 3, t_max: 3 }, /optimizer\.schedule\.warmup \(3\) must be less than optimizer\.schedule\.t_max \(3\)/);
  fails({ warmup: 5 }, /warmup \(5\) must be less than optimizer\.schedule\.t_max \(5, the run's length in scheduler steps\)/);
});

test.run();
