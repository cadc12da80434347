import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultGoal } from '../../../runner/config/lifecycle.ts';
import { ModelSelection } from '../../../runner/train/selection.ts';

/** Feeds values epoch by epoch; returns which epochs improved and the wait after each. */
function run(selection: ModelSelection, values: number[]) {
  return values.map((v, i) => [selection.observe(i + 1, v), selection.wait] as const);
}

test("Keras's rule: better by more than min_delta improves; wait counts the epochs since", () => {
  const s = new ModelSelection({ metric: 'val_loss', goal: 'minimize' }, 0.01);
  assert.equal(run(s, [0.5, 0.495, 0.48, 0.49, 0.47]), [
    [true, 0],
    [false, 1], // 0.005 better: not more than min_delta
    [true, 0], // 0.02 better than 0.5
    [false, 1],
    [false, 2], // 0.47 is only 0.01 below 0.48
  ]);
  assert.is(s.bestEpoch, 3);
  assert.is(s.best, 0.48);
});

test('maximize; NaN never improves; state round-trips', () => {
  const s = new ModelSelection({ metric: 'val_accuracy', goal: 'maximize' }, 0);
  assert.equal(run(s, [NaN, 0.7, 0.7, 0.8]), [
    [false, 1],
    [true, 0],
    [false, 1], // equal is no improvement
    [true, 0],
  ]);
  const copy = new ModelSelection({ metric: 'val_accuracy', goal: 'maximize' }, 0);
  copy.restore(JSON.parse(JSON.stringify(s.state())));
  assert.equal([copy.best, copy.bestEpoch, copy.wait], [0.8, 4, 0]);
});

test('goals by name: losses go down, accuracies up', () => {
  assert.is(defaultGoal('val_loss'), 'minimize');
  assert.is(defaultGoal('val_accuracy'), 'maximize');
});

test.run();
