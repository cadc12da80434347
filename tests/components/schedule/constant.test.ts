import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { assertFactors, epochRates, scheduled } from '../../helpers/schedule.ts';

test('constant keeps every group at its initial rate', () => {
  assertFactors(epochRates({ type: 'constant' }, 4), [1, 1, 1, 1, 1]);
});

test('constant with interval step keeps the rates over steps too', () => {
  const { optimizer, scheduler } = scheduled({ type: 'constant', interval: 'step' });
  for (let i = 0; i < 5; i++) scheduler.afterStep();
  assert.equal(optimizer.learningRates(), { default: 0.001, ice: 0, head: 0.01 });
});

test.run();
