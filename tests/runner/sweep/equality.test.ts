import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { leafEquals, matchesFilter } from '../../../runner/sweep/equality.ts';

/** Table: filter, value, whether the value matches. */
const cases: [unknown, unknown, boolean][] = [
  [1, 1, true],
  [1, 1.0, true], // one number type: YAML 1 and 1.0 are the same number
  [1, '1', false],
  ['1', 1, false],
  [true, 'true', false],
  [true, 1, false],
  [null, null, true],
  [null, 0, false],
  [null, '', false],
  ['Adam', 'adam', false],
  [Number.NaN, Number.NaN, true],
  [0.1 + 0.2, 0.3, false], // exact, no tolerance
  [[3, 4, 5], [3, 4, 5], true],
  [[3, 4], [3, 4, 5], false], // a list matches only a list of the same length
  [[3, 4, 5], [3, 4], false],
  [[], [], true],
  [[[1, 2]], [[1, 2]], true],
  [['1'], [1], false],
  [[3, 4, 5], '3,4,5', false],
  [{ name: 'sgd' }, { name: 'sgd', lr: 0.1 }, true], // unnamed keys are wildcards
  [{ name: 'sgd', lr: 0.1 }, { name: 'sgd' }, false],
  [{ a: { b: 1 } }, { a: { b: 1, c: 2 } }, true],
  [{ a: { b: 1 } }, { a: { b: '1' } }, false],
  [{ b: null }, { a: 1 }, true], // a missing key reads as null
  [{ b: null }, 'text', true],
  [{ b: 1 }, 'text', false],
  [{}, 5, true], // an empty mapping has no leaves
  [{ a: 1 }, [1], false],
  [[{ u: 1 }], [{ u: 1, v: 2 }], true],
];

for (const [filter, value, expected] of cases) {
  test(`${JSON.stringify(filter)} vs ${JSON.stringify(value)} → ${expected}`, () => {
    assert.is(matchesFilter(filter, value), expected);
  });
}

test('leafEquals is symmetric on the cases above that are leaves', () => {
  for (const [a, b] of cases) {
    if (typeof a === 'object' && a !== null) continue;
    assert.is(leafEquals(a, b), leafEquals(b, a));
  }
});

test.run();
