import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import { describeValue, formatPath, SweepDefinitionError } from '../../../runner/sweep/errors.ts';

const paths: [(string | number)[], string][] = [
  [['sweep', 'matrix', 'exclude', 0, 'foo'], 'sweep.matrix.exclude[0].foo'],
  [['sweep', 'matrix', 'optimizer.lr'], 'sweep.matrix["optimizer.lr"]'],
  [['sweep', 'matrix', 'include', 1, 'model.kernel_sizes'], 'sweep.matrix.include[1]["model.kernel_sizes"]'],
  [['sweep', 'matrix', 'a b'], 'sweep.matrix["a b"]'],
  [[0, 'sweep'], '[0].sweep'],
  [[], '(config root)'],
];

for (const [path, text] of paths) {
  test(`formatPath ${text}`, () => assert.is(formatPath(path), text));
}

test('one issue: one sentence with its path; several: numbered in one paragraph', () => {
  const one = new SweepDefinitionError([{ path: ['sweep', 'metric'], message: 'is wrong.' }]);
  assert.ok(one instanceof UserError);
  assert.is(one.name, 'SweepDefinitionError');
  assert.is(one.message, 'Invalid sweep definition at sweep.metric: is wrong.');
  const two = new SweepDefinitionError([
    { path: ['sweep', 'a'], message: 'x.' },
    { path: ['sweep', 'b'], message: 'y.' },
  ]);
  assert.is(two.message, 'Invalid sweep definition, 2 problems: (1) sweep.a: x. (2) sweep.b: y.');
  assert.not.match(two.message, /\n/);
  assert.equal(
    two.issues.map((issue) => issue.path),
    [
      ['sweep', 'a'],
      ['sweep', 'b'],
    ],
  );
});

test('describeValue', () => {
  assert.equal(
    [
      describeValue(null),
      describeValue(0.01),
      describeValue('adam'),
      describeValue([1]),
      describeValue({ a: 1 }),
      describeValue('x'.repeat(100)).length,
    ],
    ['null', 'a number (0.01)', 'a string ("adam")', 'a list ([1])', 'a mapping ({"a":1})', 71],
  );
});

test.run();
