import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { UserError } from '../../../runner/errors.ts';
import { assertFactors, epochRates, scheduled } from '../../helpers/schedule.ts';

test('linear without warmup: LinearLR(1, end_factor, total), total and end_factor 0 by default', () => {
  // factor 1 + (end − 1) · min(t, total) / total, total = 4 epochs.
  assertFactors(epochRates({ type: 'linear' }, 4), [1, 0.75, 0.5, 0.25, 0]);
  assertFactors(epochRates({ type: 'linear', end_factor: 0.5, total: 2 }, 4), [1, 0.75, 0.5, 0.5, 0.5]);
});

test('linear with warmup: SequentialLR(LinearLR(start, 1, warmup), LinearLR(1, end, total − warmup)), constant after total', () => {
  const warmup = (t: number) => 0.25 + ((1 - 0.25) * t) / 2;
  const decay = (t: number) => 1 + ((0.1 - 1) * Math.min(t, 4)) / 4;
  const rates = epochRates({ type: 'linear', warmup: 2, start_factor: 0.25, end_factor: 0.1, total: 6 }, 8);
  assertFactors(rates, [warmup(0), warmup(1), decay(0), decay(1), decay(2), decay(3), decay(4), decay(5), decay(6)]);
  assertFactors(rates, [0.25, 0.625, 1, 0.775, 0.55, 0.325, 0.1, 0.1, 0.1]);
});

test('linear: a warmup not shorter than total is a UserError naming both keys', () => {
  assert.throws(
    () => scheduled({ type: 'linear', warmup: 4, total: 4 }),
    (e: unknown) =>
      e instanceof UserError &&
      /optimizer\.schedule\.warmup \(4\) must be less than optimizer\.schedule\.total \(4\)/.test((e as Error).message),
  );
});

test.run();
