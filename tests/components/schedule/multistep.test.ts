import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { UserError } from '../../../runner/errors.ts';
import { assertFactors, epochRates, scheduled } from '../../helpers/schedule.ts';

test('multistep: η0 · gamma^(number of milestones ≤ t) (MultiStepLR)', () => {
  assertFactors(epochRates({ type: 'multistep', milestones: [2, 5] }, 6), [1, 1, 0.1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2]);
  assertFactors(epochRates({ type: 'multistep', milestones: [1], gamma: 0.5 }, 2), [1, 0.5, 0.5]);
});

test('multistep: milestones that do not increase strictly are a UserError naming the key', () => {
  for (const milestones of [
    [3, 3],
    [5, 2],
  ]) {
    assert.throws(
      () => scheduled({ type: 'multistep', milestones }),
      (e: unknown) => e instanceof UserError && /optimizer\.schedule\.milestones must increase strictly/.test((e as Error).message),
    );
  }
});

test.run();
