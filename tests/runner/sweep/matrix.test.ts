import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandMatrix, expandMatrixPlanned, MATRIX_PRODUCT_LIMIT } from '../../../runner/sweep/matrix.ts';
import { assertIssues, ordered } from './helpers.ts';

type Matrix = Record<string, unknown>;

test('GitHub worked example, in GitHub order with keys in order', () => {
  const matrix = {
    fruit: ['apple', 'pear'],
    animal: ['cat', 'dog'],
    include: [
      { color: 'green' },
      { color: 'pink', animal: 'cat' },
      { fruit: 'apple', shape: 'circle' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ],
  };
  assert.equal(
    ordered(expandMatrix(matrix)),
    ordered([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]),
  );
});

const KS = 'model.kernel_sizes';
const LR = 'optimizer.lr';

/** Table: matrix → expected trials (order and key order checked). */
const cases: { name: string; matrix: Matrix; mode?: 'product' | 'zip'; expected: Record<string, unknown>[] }[] = [
  {
    name: 'odometer order: the first key changes slowest',
    matrix: { a: [1, 2], b: ['x', 'y'], c: [true, false] },
    expected: [
      { a: 1, b: 'x', c: true },
      { a: 1, b: 'x', c: false },
      { a: 1, b: 'y', c: true },
      { a: 1, b: 'y', c: false },
      { a: 2, b: 'x', c: true },
      { a: 2, b: 'x', c: false },
      { a: 2, b: 'y', c: true },
      { a: 2, b: 'y', c: false },
    ],
  },
  { name: 'an empty vector empties the product', matrix: { a: [1, 2], b: [] }, expected: [] },
  {
    name: 'an empty vector leaves only include items (appended, all keys)',
    matrix: { a: [1, 2], b: [], include: [{ a: 1, c: 3 }, { d: 4 }] },
    expected: [{ a: 1, c: 3 }, { d: 4 }],
  },
  { name: 'no vectors and no include: no trials', matrix: {}, expected: [] },
  {
    name: 'no vectors, include only: one trial per item',
    matrix: { include: [{ [LR]: 0.1, 'train.epochs': 3 }, { [LR]: 0.2 }] },
    expected: [{ [LR]: 0.1, 'train.epochs': 3 }, { [LR]: 0.2 }],
  },
  {
    name: 'include with only non-vector keys applies to every trial',
    matrix: { a: [1, 2], include: [{ 'train.epochs': 5 }] },
    expected: [
      { a: 1, 'train.epochs': 5 },
      { a: 2, 'train.epochs': 5 },
    ],
  },
  {
    name: 'a later include overwrites an earlier extra, keeping its key position',
    matrix: {
      a: [1, 2],
      include: [
        { x: 'first', y: 0 },
        { a: 1, x: 'second' },
      ],
    },
    expected: [
      { a: 1, x: 'second', y: 0 },
      { a: 2, x: 'first', y: 0 },
    ],
  },
  {
    name: 'an include never overwrites a vector value: it becomes a new trial instead',
    matrix: {
      a: [1, 2],
      b: ['x'],
      include: [
        { a: 3, x: 'new' },
        { a: 1, b: 'z', x: 'no' },
      ],
    },
    expected: [
      { a: 1, b: 'x' },
      { a: 2, b: 'x' },
      { a: 3, x: 'new' },
      { a: 1, b: 'z', x: 'no' },
    ],
  },
  {
    name: 'an include item with only vector keys: no-op when it matches, a trial when it does not',
    matrix: { a: [1, 2], include: [{ a: 1 }, { a: 9 }] },
    expected: [{ a: 1 }, { a: 2 }, { a: 9 }],
  },
  {
    name: 'exclude: unnamed keys are wildcards; any item drops',
    matrix: { a: [1, 2], b: ['x', 'y'], exclude: [{ a: 1 }, { a: 2, b: 'y' }] },
    expected: [{ a: 2, b: 'x' }],
  },
  {
    name: 'exclude runs first; include can add back an excluded combination; appended trials are not matched again',
    matrix: { a: [1, 2], exclude: [{ a: 1 }], include: [{ a: 1, x: 'back' }, { x: 'all' }] },
    expected: [
      { a: 2, x: 'all' },
      { a: 1, x: 'back' },
    ],
  },
  {
    name: 'appended trials are not excluded and not matched by later items',
    matrix: { a: [1], exclude: [{ a: 1 }], include: [{ y: 1 }, { y: 2 }] },
    expected: [{ y: 1 }, { y: 2 }],
  },
  {
    name: 'nested list values: exclude and include compare whole lists',
    matrix: {
      [LR]: [0.01, 0.001],
      [KS]: [
        [3, 4, 5],
        [2, 3, 4],
      ],
      exclude: [{ [LR]: 0.01, [KS]: [2, 3, 4] }, { [KS]: [3, 4] }],
      include: [
        { [KS]: [3, 4, 5], 'model.pool': 'max' },
        { [KS]: [2, 3], 'model.pool': 'min' },
      ],
    },
    expected: [
      { [LR]: 0.01, [KS]: [3, 4, 5], 'model.pool': 'max' },
      { [LR]: 0.001, [KS]: [3, 4, 5], 'model.pool': 'max' },
      { [LR]: 0.001, [KS]: [2, 3, 4] },
      { [KS]: [2, 3], 'model.pool': 'min' },
    ],
  },
  {
    name: 'nested mapping values compare leaf by leaf (unnamed nested keys are wildcards)',
    matrix: {
      optimizer: [
        { name: 'adam', lr: 0.01 },
        { name: 'sgd', lr: 0.1 },
        { name: 'sgd', lr: 0.5 },
      ],
      exclude: [{ optimizer: { name: 'sgd', lr: 0.5 } }],
      include: [{ optimizer: { name: 'sgd' }, 'optimizer.momentum': 0.9 }],
    },
    expected: [{ optimizer: { name: 'adam', lr: 0.01 } }, { optimizer: { name: 'sgd', lr: 0.1 }, 'optimizer.momentum': 0.9 }],
  },
  {
    name: 'a null filter leaf also matches a missing key (GitHub reads it as null)',
    matrix: { m: [{ a: 1 }, { a: 1, b: 2 }, { a: 1, b: null }], exclude: [{ m: { b: null } }] },
    expected: [{ m: { a: 1, b: 2 } }],
  },
  {
    name: 'exact equality: 1, "1", true, "true", null are all different; 1.0 is 1',
    matrix: { v: [1, '1', true, 'true', null, 0], exclude: [{ v: '1' }, { v: true }, { v: 1.0 }] },
    expected: [{ v: 'true' }, { v: null }, { v: 0 }],
  },
  {
    name: 'exact equality: strings are case-sensitive; null is not 0 or ""',
    matrix: { v: ['Adam', 'adam', '', 0, null], exclude: [{ v: 'adam' }, { v: null }] },
    expected: [{ v: 'Adam' }, { v: '' }, { v: 0 }],
  },
  {
    name: 'zip pairs the i-th values; exclude and include still apply',
    mode: 'zip',
    matrix: { a: [1, 2, 3], b: ['x', 'y', 'z'], exclude: [{ b: 'y' }], include: [{ a: 3, c: true }] },
    expected: [
      { a: 1, b: 'x' },
      { a: 3, b: 'z', c: true },
    ],
  },
];

for (const { name, matrix, mode, expected } of cases) {
  test(name, () => {
    assert.equal(ordered(expandMatrix(matrix, mode === undefined ? {} : { mode })), ordered(expected));
  });
}

/** Table: bad matrix → issue paths (relative to the config root) and words the message must contain. */
const errors: { name: string; matrix: unknown; mode?: 'zip'; paths: (string | number)[][]; words: string[] }[] = [
  {
    name: 'a vector that is not a list',
    matrix: { [LR]: 0.01 },
    paths: [['sweep', 'matrix', LR]],
    words: ['must be a list', `${LR}: [0.01]`],
  },
  { name: 'a matrix that is not a mapping', matrix: [1, 2], paths: [['sweep', 'matrix']], words: ['mapping'] },
  {
    name: 'an exclude key that is not a vector',
    matrix: { fruit: ['apple'], exclude: [{ fruit: 'apple', foo: 1 }] },
    paths: [['sweep', 'matrix', 'exclude', 0, 'foo']],
    words: ["'foo' is not a key of the matrix", 'fruit'],
  },
  {
    name: 'an exclude key that wraps a dotted vector gets a hint',
    matrix: { [LR]: [1], exclude: [{ optimizer: { lr: 1 } }] },
    paths: [['sweep', 'matrix', 'exclude', 0, 'optimizer']],
    words: [`write its key itself (${LR})`],
  },
  {
    name: 'an exclude key inside a vector value gets a hint',
    matrix: { optimizer: [{ lr: 1 }], exclude: [{ [LR]: 1 }] },
    paths: [['sweep', 'matrix', 'exclude', 0, LR]],
    words: ['optimizer: {lr: ...}'],
  },
  {
    name: 'an empty exclude item',
    matrix: { a: [1], exclude: [{}] },
    paths: [['sweep', 'matrix', 'exclude', 0]],
    words: ['must not be empty'],
  },
  {
    name: 'exclude that is not a list',
    matrix: { a: [1], exclude: { a: 1 } },
    paths: [['sweep', 'matrix', 'exclude']],
    words: ['list of mappings'],
  },
  {
    name: 'exclude with no vectors',
    matrix: { exclude: [{ a: 1 }] },
    paths: [['sweep', 'matrix', 'exclude', 0, 'a']],
    words: ['has no vectors'],
  },
  {
    name: 'an include item with neither filter nor extras',
    matrix: { a: [1], include: [{ a: 1 }, {}] },
    paths: [['sweep', 'matrix', 'include', 1]],
    words: ['neither'],
  },
  {
    name: 'an include item that is not a mapping',
    matrix: { a: [1], include: ['x'] },
    paths: [['sweep', 'matrix', 'include', 0]],
    words: ['mapping'],
  },
  {
    name: 'an include extra that contains a vector path',
    matrix: { [LR]: [1], include: [{ optimizer: { lr: 2 } }] },
    paths: [['sweep', 'matrix', 'include', 0, 'optimizer']],
    words: ['would replace matrix values'],
  },
  {
    name: 'a key that is not a dotted path',
    matrix: { 'a b': [1] },
    paths: [['sweep', 'matrix', 'a b']],
    words: ['not a dotted config path'],
  },
  {
    name: 'a key into the sweep block',
    matrix: { 'sweep.max_parallel': [1, 2] },
    paths: [['sweep', 'matrix', 'sweep.max_parallel']],
    words: ['sweep block'],
  },
  {
    name: 'zip with different lengths',
    mode: 'zip',
    matrix: { a: [1, 2], b: [1] },
    paths: [['sweep', 'matrix']],
    words: ['a has 2, b has 1'],
  },
  {
    name: 'every problem is reported at once',
    matrix: { a: 1, b: [1], exclude: [{ c: 1 }], include: [{}] },
    paths: [
      ['sweep', 'matrix', 'a'],
      ['sweep', 'matrix', 'exclude', 0, 'c'],
      ['sweep', 'matrix', 'include', 0],
    ],
    words: ['3 problems', 'sweep.matrix.exclude[0].c'],
  },
];

for (const { name, matrix, mode, paths, words } of errors) {
  test(`error: ${name}`, () => {
    assertIssues(() => expandMatrix(matrix, mode === undefined ? {} : { mode }), paths, words);
  });
}

const values = (n: number) => Array.from({ length: n }, (_, i) => i);

test('256 trials is the limit; beyond it the error names the count', () => {
  assert.is(expandMatrix({ a: values(16), b: values(16) }).length, 256);
  assertIssues(() => expandMatrix({ a: values(16), b: values(17) }), [['sweep', 'matrix']], ['272 trials', '256']);
  assertIssues(() => expandMatrix({ a: values(16), b: values(16), include: [{ a: 99 }] }), [['sweep', 'matrix']], ['257 trials']);
  // Exclude brings a large product under the limit, as in GitHub (it counts jobs).
  assert.is(expandMatrix({ a: values(20), b: values(20), exclude: values(10).map((a) => ({ a })) }).length, 200);
});

test('a huge product is refused without enumerating it', () => {
  const matrix = { a: values(100), b: values(100), c: values(100) };
  assert.ok(100 ** 3 > MATRIX_PRODUCT_LIMIT);
  assertIssues(() => expandMatrix(matrix), [['sweep', 'matrix']], ['1000000 combinations before exclude']);
});

test('error paths follow the given location', () => {
  assertIssues(() => expandMatrix({ a: 1 }, { path: ['sweeps', 0, 'matrix'] }), [['sweeps', 0, 'matrix', 'a']], ['sweeps[0].matrix.a']);
});

test('sources point at the YAML node of every value', () => {
  const trials = expandMatrixPlanned({ a: [1, 2], b: ['x'], include: [{ a: 2, c: 1 }, { d: 1 }, { a: 7 }] });
  assert.equal(
    trials.map((trial) => trial.sources),
    [
      { a: ['sweep', 'matrix', 'a', 0], b: ['sweep', 'matrix', 'b', 0], d: ['sweep', 'matrix', 'include', 1, 'd'] },
      {
        a: ['sweep', 'matrix', 'a', 1],
        b: ['sweep', 'matrix', 'b', 0],
        c: ['sweep', 'matrix', 'include', 0, 'c'],
        d: ['sweep', 'matrix', 'include', 1, 'd'],
      },
      { a: ['sweep', 'matrix', 'include', 2, 'a'] },
    ],
  );
});

test('trials own their values: mutating one changes neither the matrix nor other trials', () => {
  const matrix = { [KS]: [[3, 4, 5]], b: [1, 2] };
  const [first, second] = expandMatrix(matrix);
  (first![KS] as number[]).push(6);
  assert.equal(second![KS], [3, 4, 5]);
  assert.equal(matrix[KS], [[3, 4, 5]]);
});

test('a __proto__ key cannot reach the prototype', () => {
  const include = JSON.parse('[{"__proto__": {"polluted": true}, "a": 1}]');
  assertIssues(() => expandMatrix({ a: [1], include: [{ x: 1 }, ...include] }), [['sweep', 'matrix', 'include', 1, '__proto__']]);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test.run();
