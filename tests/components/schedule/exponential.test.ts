import { test } from 'uvu';
import '../../helpers/backend.ts';
import { assertFactors, epochRates } from '../../helpers/schedule.ts';

test('exponential: η0 · gamma^t (ExponentialLR)', () => {
  assertFactors(epochRates({ type: 'exponential', gamma: 0.9 }, 5), [1, 0.9, 0.9 ** 2, 0.9 ** 3, 0.9 ** 4, 0.9 ** 5]);
});

test.run();
