import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { assertFactors, epochRates } from '../../helpers/schedule.ts';

test('step: η0 · gamma^floor(t / step_size) (StepLR)', () => {
  const expected = [0, 1, 2, 3, 4, 5, 6, 7].map((t) => 0.5 ** Math.floor(t / 3));
  assert.equal(expected, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
  assertFactors(epochRates({ type: 'step', step_size: 3, gamma: 0.5 }, 7), expected);
});

test('step: gamma defaults to 0.1', () => {
  assertFactors(epochRates({ type: 'step', step_size: 2 }, 4), [1, 1, 0.1, 0.1, 0.1 ** 2]);
});

test.run();
