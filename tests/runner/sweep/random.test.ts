import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fmix32, fnv1a32, mulberry32, uniformAt } from '../../../runner/common/random.ts';
import { randomIssues, sampleRandom } from '../../../runner/sweep/random.ts';
import type { RandomDefinition, RandomParam } from '../../../runner/config/sweep-schema.ts';
import { assertIssues } from './helpers.ts';

const PARAMS: Record<string, RandomParam> = {
  'optimizer.lr': { distribution: 'log_uniform', min: 1e-4, max: 1e-2 },
  'model.dropout': { distribution: 'uniform', min: 0.2, max: 0.6 },
  'train.batch_size': { distribution: 'int_uniform', min: 16, max: 128 },
  'optimizer.name': { distribution: 'choice', values: ['adam', 'sgd', 'rmsprop'] },
};

const draw = (random: RandomDefinition) => sampleRandom(random).map((trial) => trial.values);

test('building blocks match their published reference values', () => {
  const next = mulberry32(1);
  assert.equal([next(), next(), next()], [2693262067, 11749833, 2265367787]);
  assert.equal([fnv1a32(''), fnv1a32('a'), fnv1a32('foobar')], [0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  assert.is(fmix32(1), 0x514e28b7);
});

test('golden values: the same seed gives these trials on every machine', () => {
  assert.equal(draw({ samples: 3, seed: 1, params: PARAMS }), [
    { 'optimizer.lr': 0.0011782542957508308, 'model.dropout': 0.30357910889697426, 'train.batch_size': 72, 'optimizer.name': 'adam' },
    { 'optimizer.lr': 0.005448083745530166, 'model.dropout': 0.49153337262927316, 'train.batch_size': 45, 'optimizer.name': 'rmsprop' },
    { 'optimizer.lr': 0.006511084284257277, 'model.dropout': 0.2720497570979662, 'train.batch_size': 36, 'optimizer.name': 'sgd' },
  ]);
});

test('determinism: same seed same trials, another seed other trials, no seed is seed 0', () => {
  const a = draw({ samples: 20, seed: 7, params: PARAMS });
  assert.equal(draw({ samples: 20, seed: 7, params: PARAMS }), a);
  assert.not.equal(draw({ samples: 20, seed: 8, params: PARAMS }), a);
  assert.equal(draw({ samples: 5, params: PARAMS }), draw({ samples: 5, seed: 0, params: PARAMS }));
});

test('stability: more samples keep the earlier ones; a new param leaves the others alone', () => {
  const eight = draw({ samples: 8, seed: 3, params: PARAMS });
  assert.equal(draw({ samples: 16, seed: 3, params: PARAMS }).slice(0, 8), eight);
  const more = draw({ samples: 8, seed: 3, params: { ...PARAMS, 'model.units': { distribution: 'int_uniform', min: 1, max: 9 } } });
  assert.equal(
    more.map(({ 'model.units': _, ...rest }) => rest),
    eight,
  );
  assert.equal(Object.keys(more[0]!), [...Object.keys(PARAMS), 'model.units']);
});

test('params are independent: two params with the same distribution get different values', () => {
  const trials = draw({
    samples: 50,
    seed: 1,
    params: { a: { distribution: 'uniform', min: 0, max: 1 }, b: { distribution: 'uniform', min: 0, max: 1 } },
  });
  assert.ok(trials.every((trial) => trial.a !== trial.b));
});

const N = 4000;
const column = (param: RandomParam) => draw({ samples: N, seed: 11, params: { x: param } }).map((trial) => trial.x);

test('uniform: within [min, max], mean near the middle, both halves used', () => {
  const xs = column({ distribution: 'uniform', min: -2, max: 6 }) as number[];
  assert.ok(xs.every((x) => x >= -2 && x <= 6));
  const mean = xs.reduce((sum, x) => sum + x, 0) / N;
  assert.ok(Math.abs(mean - 2) < 0.15, `mean ${mean}`);
  assert.ok(Math.min(...xs) < -1.9 && Math.max(...xs) > 5.9);
});

test('log_uniform: within [min, max] and uniform in log space (each decade gets an equal share)', () => {
  const xs = column({ distribution: 'log_uniform', min: 1e-4, max: 1e-1 }) as number[];
  assert.ok(xs.every((x) => x >= 1e-4 && x <= 1e-1));
  const decades = [0, 0, 0];
  for (const x of xs) decades[Math.min(2, Math.floor(Math.log10(x) + 4))]!++;
  for (const count of decades) assert.ok(Math.abs(count / N - 1 / 3) < 0.03, `decade shares ${decades}`);
  // Uniform in linear space would put under 1% of values below 1e-3; log space puts a third there.
  assert.ok(xs.filter((x) => x < 1e-3).length / N > 0.3);
});

test('int_uniform: integers from min to max, both ends included, all values used', () => {
  const xs = column({ distribution: 'int_uniform', min: -3, max: 3 }) as number[];
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= -3 && x <= 3));
  assert.equal(
    [...new Set(xs)].sort((a, b) => a - b),
    [-3, -2, -1, 0, 1, 2, 3],
  );
  for (let v = -3; v <= 3; v++) assert.ok(Math.abs(xs.filter((x) => x === v).length / N - 1 / 7) < 0.03);
});

test('choice: every value, equally often, as its own copy', () => {
  const values = [{ name: 'adam' }, [1, 2], 'sgd', null];
  const xs = column({ distribution: 'choice', values });
  for (const value of values) {
    const share = xs.filter((x) => JSON.stringify(x) === JSON.stringify(value)).length / N;
    assert.ok(Math.abs(share - 0.25) < 0.03, `share of ${JSON.stringify(value)}: ${share}`);
  }
  (xs.find((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) as { name: string }).name = 'changed';
  assert.equal(values[0], { name: 'adam' });
});

test('uniformAt: in [0, 1), spread evenly', () => {
  const us = Array.from({ length: N }, (_, i) => uniformAt(5, 'p', i));
  assert.ok(us.every((u) => u >= 0 && u < 1));
  const buckets = new Array(10).fill(0);
  for (const u of us) buckets[Math.floor(u * 10)]++;
  assert.ok(
    buckets.every((count) => Math.abs(count / N - 0.1) < 0.02),
    `buckets ${buckets}`,
  );
});

const R = ['sweep', 'random'];
const P = [...R, 'params'];
const bad: { name: string; random: unknown; paths: (string | number)[][]; words?: string[] }[] = [
  {
    name: 'min not below max',
    random: { samples: 1, params: { x: { distribution: 'uniform', min: 1, max: 1 } } },
    paths: [[...P, 'x', 'min']],
    words: ['less than max'],
  },
  {
    name: 'log_uniform min at 0',
    random: { samples: 1, params: { x: { distribution: 'log_uniform', min: 0, max: 1 } } },
    paths: [[...P, 'x', 'min']],
    words: ['min > 0'],
  },
  {
    name: 'int_uniform with a fraction',
    random: { samples: 1, params: { x: { distribution: 'int_uniform', min: 0.5, max: 3 } } },
    paths: [[...P, 'x', 'min']],
    words: ['whole number'],
  },
  { name: 'missing max', random: { samples: 1, params: { x: { distribution: 'uniform', min: 0 } } }, paths: [[...P, 'x', 'max']] },
  { name: 'choice without values', random: { samples: 1, params: { x: { distribution: 'choice' } } }, paths: [[...P, 'x', 'values']] },
  {
    name: 'choice with min',
    random: { samples: 1, params: { x: { distribution: 'choice', values: [1], min: 0 } } },
    paths: [[...P, 'x', 'min']],
  },
  {
    name: 'values on uniform',
    random: { samples: 1, params: { x: { distribution: 'uniform', min: 0, max: 1, values: [1] } } },
    paths: [[...P, 'x', 'values']],
  },
  {
    name: 'unknown distribution',
    random: { samples: 1, params: { x: { distribution: 'normal' } } },
    paths: [[...P, 'x', 'distribution']],
    words: ['uniform, log_uniform'],
  },
  {
    name: 'unknown key',
    random: { samples: 1, params: { x: { distribution: 'uniform', min: 0, max: 1, step: 1 } } },
    paths: [[...P, 'x', 'step']],
  },
  {
    name: 'samples 0 and a negative seed',
    random: { samples: 0, seed: -1, params: { x: { distribution: 'choice', values: [1] } } },
    paths: [
      [...R, 'samples'],
      [...R, 'seed'],
    ],
  },
  { name: 'no params', random: { samples: 2, params: {} }, paths: [P] },
  {
    name: 'a param path into the sweep block',
    random: { samples: 2, params: { 'sweep.seed': { distribution: 'choice', values: [1] } } },
    paths: [[...P, 'sweep.seed']],
  },
];

for (const { name, random, paths, words } of bad) {
  test(`error: ${name}`, () => {
    assert.equal(
      randomIssues(random).map((issue) => issue.path),
      paths,
    );
    assertIssues(() => sampleRandom(random as RandomDefinition), paths, words);
  });
}

test.run();
