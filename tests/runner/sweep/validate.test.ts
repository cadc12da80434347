import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { SweepSchema } from '../../../runner/config/sweep-schema.ts';
import { trialLabel, planTrials } from '../../../runner/sweep/trials.ts';
import { parseSweep, sweepValidator } from '../../../runner/sweep/validate.ts';
import { assertIssues } from './helpers.ts';

const ISSUE_EXAMPLE = `
sweep:
  matrix:
    optimizer.lr: [0.01, 0.001]
    model.kernel_sizes: [[3, 4, 5], [2, 3, 4]]
    exclude:
      - optimizer.lr: 0.01
        model.kernel_sizes: [2, 3, 4]
    include:
      - optimizer.lr: 0.0005
        train.epochs: 10
  random:                      # optional, instead of or after the matrix
    samples: 8
    seed: 1
    params:
      optimizer.lr: {distribution: log_uniform, min: 1.0e-4, max: 1.0e-2}
      model.dropout: {distribution: uniform, min: 0.2, max: 0.6}
  metric: {name: test_accuracy, goal: maximize}
  max_parallel: 2
  fail_fast: false
`;

test('the schema compiles with ajv in strict mode', () => {
  assert.type(sweepValidator(), 'function');
});

test('every property of the schema has a description (editor hover docs)', () => {
  const missing: string[] = [];
  const walk = (schema: unknown, at: string): void => {
    if (typeof schema !== 'object' || schema === null) return;
    const node = schema as Record<string, unknown>;
    for (const group of ['properties', 'patternProperties'] as const) {
      for (const [key, child] of Object.entries((node[group] ?? {}) as Record<string, unknown>)) {
        if (typeof (child as { description?: unknown }).description !== 'string') missing.push(`${at}.${key}`);
        walk(child, `${at}.${key}`);
      }
    }
    if (node.items !== undefined) walk(node.items, `${at}[]`);
  };
  walk(SweepSchema, 'sweep');
  assert.equal(missing, []);
  assert.ok(JSON.stringify(SweepSchema).match(/"additionalProperties":false/g)!.length >= 7);
});

test("the issue's example: valid, defaults filled, 4 matrix trials then 8 random ones", () => {
  const sweep = parseSweep(parse(ISSUE_EXAMPLE).sweep);
  assert.equal([sweep.mode, sweep.max_parallel, sweep.fail_fast, sweep.random?.combine], ['product', 2, false, 'append']);
  const trials = planTrials(sweep);
  assert.is(trials.length, 12);
  assert.equal(trials.slice(0, 4).map(trialLabel), [
    'optimizer.lr=0.01 model.kernel_sizes=[3,4,5]',
    'optimizer.lr=0.001 model.kernel_sizes=[3,4,5]',
    'optimizer.lr=0.001 model.kernel_sizes=[2,3,4]',
    'optimizer.lr=0.0005 train.epochs=10',
  ]);
  assert.ok(trials.slice(4).every((trial) => Object.keys(trial).join(' ') === 'optimizer.lr model.dropout'));
});

test("the issue's example with combine: product repeats optimizer.lr: refused at the random param", () => {
  const raw = parse(ISSUE_EXAMPLE).sweep;
  raw.random.combine = 'product';
  assertIssues(() => parseSweep(raw), [['sweep', 'random', 'params', 'optimizer.lr']], ['not both']);
  delete raw.random.params['optimizer.lr'];
  const trials = planTrials(parseSweep(raw));
  assert.is(trials.length, 32);
  const matrixPart = trials.filter((_, i) => i % 8 === 0).map(({ 'model.dropout': _, ...rest }) => trialLabel(rest));
  assert.equal(matrixPart, [
    'optimizer.lr=0.01 model.kernel_sizes=[3,4,5]',
    'optimizer.lr=0.001 model.kernel_sizes=[3,4,5]',
    'optimizer.lr=0.001 model.kernel_sizes=[2,3,4]',
    'optimizer.lr=0.0005 train.epochs=10',
  ]);
});

test('defaults: mode product, max_parallel 1, fail_fast false, seed 0', () => {
  const sweep = parseSweep({ random: { samples: 1, params: { x: { distribution: 'choice', values: [1] } } } });
  assert.equal(
    [sweep.mode, sweep.max_parallel, sweep.fail_fast, sweep.random?.seed, sweep.random?.combine],
    ['product', 1, false, 0, 'append'],
  );
});

const S = ['sweep'];
const bad: { name: string; raw: unknown; paths: (string | number)[][]; words?: string[] }[] = [
  {
    name: 'an unknown key names the allowed ones',
    raw: { matrix: { a: [1] }, parallel: 2 },
    paths: [[...S, 'parallel']],
    words: ['allowed here: mode, matrix, random'],
  },
  {
    name: 'a matrix key that is not a dotted path',
    raw: { matrix: { 'learning rate': [1] } },
    paths: [[...S, 'matrix', 'learning rate']],
    words: ['not a dotted config path (or one of include, exclude)'],
  },
  {
    name: 'a vector that is not a list',
    raw: { matrix: { a: 1 } },
    paths: [[...S, 'matrix', 'a']],
    words: ['must be a list, not a number (1)'],
  },
  {
    name: 'an empty include item',
    raw: { matrix: { a: [1], include: [{}] } },
    paths: [[...S, 'matrix', 'include', 0]],
    words: ['neither'],
  },
  { name: 'an empty exclude item', raw: { matrix: { a: [1], exclude: [{}] } }, paths: [[...S, 'matrix', 'exclude', 0]] },
  {
    name: 'an exclude key outside the matrix (a planning rule)',
    raw: { matrix: { a: [1], exclude: [{ b: 1 }] } },
    paths: [[...S, 'matrix', 'exclude', 0, 'b']],
  },
  {
    name: 'a bad goal and a missing name',
    raw: { matrix: { a: [1] }, metric: { goal: 'max' } },
    paths: [
      [...S, 'metric', 'name'],
      [...S, 'metric', 'goal'],
    ],
    words: ['maximize, minimize'],
  },
  {
    name: 'max_parallel 0, fail_fast "no"',
    raw: { matrix: { a: [1] }, max_parallel: 0, fail_fast: 'no' },
    paths: [
      [...S, 'max_parallel'],
      [...S, 'fail_fast'],
    ],
    words: ['at least 1', 'true or false'],
  },
  { name: 'a bad mode', raw: { mode: 'grid', matrix: { a: [1] } }, paths: [[...S, 'mode']], words: ['product, zip'] },
  {
    name: 'a random param with a bad key',
    raw: { random: { samples: 1, params: { x: { distribution: 'uniform', lo: 0 } } } },
    paths: [[...S, 'random', 'params', 'x', 'lo']],
  },
  {
    name: 'a bound rule',
    raw: { random: { samples: 1, params: { x: { distribution: 'log_uniform', min: -1, max: 1 } } } },
    paths: [[...S, 'random', 'params', 'x', 'min']],
  },
  { name: 'not a mapping', raw: [1], paths: [S], words: ['must be a mapping, not a list'] },
];

for (const { name, raw, paths, words } of bad) {
  test(`parseSweep error: ${name}`, () => {
    assertIssues(() => parseSweep(raw), paths, words);
  });
}

test('parseSweep: paths relative to a given base', () => {
  assertIssues(() => parseSweep({ matrix: { a: 1 } }, ['experiments', 2, 'sweep']), [['experiments', 2, 'sweep', 'matrix', 'a']]);
});

test.run();
