import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../../runner/errors.ts';
import type { SweepDefinition } from '../../../runner/config/sweep-schema.ts';
import { applyTrial, canonicalJson, planTrials, planTrialsPlanned, trialHash, trialLabel } from '../../../runner/sweep/trials.ts';
import { assertIssues, ordered } from './helpers.ts';

const RANDOM = { samples: 2, seed: 1, params: { 'model.dropout': { distribution: 'uniform' as const, min: 0.2, max: 0.6 } } };
const PRODUCT = { ...RANDOM, combine: 'product' as const };

test('planTrials: matrix alone, random alone', () => {
  assert.equal(planTrials({ matrix: { a: [1, 2] } }), [{ a: 1 }, { a: 2 }]);
  const random = planTrials({ random: RANDOM });
  assert.is(random.length, 2);
  assert.ok(random.every((trial) => Object.keys(trial).join() === 'model.dropout'));
});

test('planTrials: matrix and random append by default: random trials after the matrix, same paths allowed', () => {
  const samples = planTrials({ random: RANDOM });
  const trials = planTrials({ matrix: { 'model.dropout': [0.1, 0.2] }, random: RANDOM });
  assert.equal(ordered(trials), ordered([{ 'model.dropout': 0.1 }, { 'model.dropout': 0.2 }, ...samples]));
  assert.equal(planTrials({ matrix: { a: [1] }, random: { ...RANDOM, combine: 'append' } }), [{ a: 1 }, ...samples]);
});

test('planTrials: combine product: matrix outermost, every matrix trial with the same samples', () => {
  const samples = planTrials({ random: RANDOM });
  const trials = planTrials({ matrix: { a: [1, 2], include: [{ b: 'x' }] }, random: PRODUCT });
  assert.equal(
    ordered(trials),
    ordered([
      { a: 1, b: 'x', ...samples[0] },
      { a: 1, b: 'x', ...samples[1] },
      { a: 2, b: 'x', ...samples[0] },
      { a: 2, b: 'x', ...samples[1] },
    ]),
  );
});

test('planTrials: zip mode reaches the matrix', () => {
  assert.equal(planTrials({ mode: 'zip', matrix: { a: [1, 2], b: [3, 4] } }), [
    { a: 1, b: 3 },
    { a: 2, b: 4 },
  ]);
});

test('planTrialsPlanned: sources of matrix and random values', () => {
  const [first] = planTrialsPlanned({ matrix: { a: [1] }, random: PRODUCT });
  assert.equal(first!.sources, { a: ['sweep', 'matrix', 'a', 0], 'model.dropout': ['sweep', 'random', 'params', 'model.dropout'] });
});

const bad: { name: string; sweep: unknown; paths: (string | number)[][]; words?: string[] }[] = [
  { name: 'neither matrix nor random', sweep: { max_parallel: 2 }, paths: [['sweep']], words: ['neither'] },
  {
    name: 'a path set by both (product)',
    sweep: { matrix: { 'model.dropout': [0.1] }, random: PRODUCT },
    paths: [['sweep', 'random', 'params', 'model.dropout']],
    words: ['not both'],
  },
  {
    name: 'a path set by both (product, from an include)',
    sweep: { matrix: { a: [1], include: [{ 'model.dropout': 0.3 }] }, random: PRODUCT },
    paths: [['sweep', 'random', 'params', 'model.dropout']],
  },
  { name: 'no trials at all', sweep: { matrix: { a: [] } }, paths: [['sweep', 'matrix']], words: ['makes no trials'] },
  { name: 'no trials with random (product)', sweep: { matrix: { a: [] }, random: PRODUCT }, paths: [['sweep', 'matrix']] },
  { name: 'a bad combine', sweep: { matrix: { a: [1] }, random: { ...RANDOM, combine: 'zip' } }, paths: [['sweep', 'random', 'combine']] },
  {
    name: 'matrix and random problems together',
    sweep: { matrix: { a: 1 }, random: { samples: 1, params: { x: { distribution: 'uniform', min: 2, max: 1 } } } },
    paths: [
      ['sweep', 'matrix', 'a'],
      ['sweep', 'random', 'params', 'x', 'min'],
    ],
  },
  {
    name: 'more than 10000 trials',
    sweep: {
      matrix: { a: [1, 2] },
      random: { samples: 5001, combine: 'product', params: { x: { distribution: 'uniform', min: 0, max: 1 } } },
    },
    paths: [['sweep']],
    words: ['10002 trials'],
  },
];

for (const { name, sweep, paths, words } of bad) {
  test(`planTrials error: ${name}`, () => {
    assertIssues(() => planTrials(sweep as SweepDefinition), paths, words);
  });
}

const CONFIG = {
  model: { kind: 'cnn', kernel_sizes: [3, 4, 5], layers: [{ units: 64 }, { units: 32 }], dropout: 0.5 },
  optimizer: { name: 'adam', lr: 0.001 },
  scheduler: null,
  sweep: { matrix: { 'optimizer.lr': [0.1] } },
};

test('applyTrial: nested paths, whole lists, list items, created mappings; input untouched; sweep dropped', () => {
  const before = structuredClone(CONFIG);
  const trial = {
    'optimizer.lr': 0.01,
    'model.kernel_sizes': [2, 3, 4],
    'model.layers.1.units': 16,
    'model.layers.0': { units: 128, activation: 'relu' },
    'train.epochs': 3,
    'scheduler.kind': 'cosine',
  };
  const result = applyTrial(CONFIG, trial);
  assert.equal(result, {
    model: { kind: 'cnn', kernel_sizes: [2, 3, 4], layers: [{ units: 128, activation: 'relu' }, { units: 16 }], dropout: 0.5 },
    optimizer: { name: 'adam', lr: 0.01 },
    scheduler: { kind: 'cosine' },
    train: { epochs: 3 },
  });
  assert.equal(CONFIG, before);
  (result.model.kernel_sizes as number[]).push(9);
  assert.equal(trial['model.kernel_sizes'], [2, 3, 4]);
});

test('applyTrial: a deeper path refines a shallower one whatever their order in the trial', () => {
  const trial = { 'optimizer.momentum': 0.9, optimizer: { name: 'sgd', lr: 0.1 } };
  assert.equal(applyTrial(CONFIG, trial).optimizer, { name: 'sgd', lr: 0.1, momentum: 0.9 });
});

const unsettable: { name: string; trial: Record<string, unknown>; words: string[] }[] = [
  { name: 'index past the end', trial: { 'model.kernel_sizes.3': 1 }, words: ['model.kernel_sizes is a list of 3 items', 'from 0 to 2'] },
  { name: 'key into a list', trial: { 'model.layers.first.units': 1 }, words: ['model.layers is a list of 2 items'] },
  { name: 'path through a number', trial: { 'optimizer.lr.value': 1 }, words: ['optimizer.lr is a number (0.001)'] },
  { name: 'path into the sweep block', trial: { 'sweep.max_parallel': 4 }, words: ['sweep block'] },
];

for (const { name, trial, words } of unsettable) {
  test(`applyTrial error: ${name}`, () => {
    assertIssues(() => applyTrial(CONFIG, trial), [['sweep']], ['cannot set', ...words]);
  });
}

test('applyTrial: errors point at the value in the sweep when sources are given', () => {
  const [planned] = planTrialsPlanned({ matrix: { 'model.kernel_sizes.5': [1] } });
  assertIssues(() => applyTrial(CONFIG, planned!.values, planned!.sources), [['sweep', 'matrix', 'model.kernel_sizes.5', 0]]);
});

test('applyTrial: the config must be a mapping', () => {
  assert.throws(
    () => applyTrial([] as object, { a: 1 }),
    (error: unknown) => error instanceof UserError,
  );
});

const labels: [Record<string, unknown>, string][] = [
  [{ 'optimizer.lr': 0.01, 'model.kernel_sizes': [3, 4, 5] }, 'optimizer.lr=0.01 model.kernel_sizes=[3,4,5]'],
  [{ 'optimizer.name': 'adam', flag: true, none: null }, 'optimizer.name=adam flag=true none=null'],
  [{ a: '1', b: 'true', c: 'two words', d: '' }, 'a="1" b="true" c="two words" d=""'],
  [{ lr: 0.0011782542957508308, x: 0.12345, big: 123456789 }, 'lr=0.001178 x=0.12345 big=123456789'],
  [{ optimizer: { name: 'sgd', lr: 0.1 } }, 'optimizer={name:sgd,lr:0.1}'],
  [{ long: 'a'.repeat(60) }, `long=${'a'.repeat(39)}…`],
  [{}, '(no values)'],
];

for (const [trial, label] of labels) {
  test(`trialLabel: ${label}`, () => assert.is(trialLabel(trial), label));
}

test('canonicalJson: sorted keys at every depth, no whitespace, undefined left out', () => {
  assert.is(canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: undefined, b: 1.5 }] }), '{"a":[true,null,"x",{"b":1.5,"d":2}],"b":1}');
  assert.is(canonicalJson({ é: 1, z: 2, Z: 3, '10': 4, '9': 5 }), '{"10":4,"9":5,"Z":3,"z":2,"é":1}');
  assert.is(canonicalJson([1.0, -0, 1e21, 'a"b']), '[1,0,1e+21,"a\\"b"]');
});

test('trialHash: sha256 of the canonical JSON, independent of key order', () => {
  const a = { model: { units: 64, kind: 'cnn' }, optimizer: { lr: 0.01, name: 'adam' } };
  const b = { optimizer: { name: 'adam', lr: 0.01 }, model: { kind: 'cnn', units: 64 } };
  assert.is(trialHash(a), trialHash(b));
  assert.is(
    trialHash(a),
    createHash('sha256').update('{"model":{"kind":"cnn","units":64},"optimizer":{"lr":0.01,"name":"adam"}}').digest('hex'),
  );
  assert.is.not(trialHash(a), trialHash({ ...b, optimizer: { name: 'adam', lr: 0.001 } }));
  assert.is.not(trialHash({ x: 1 }), trialHash({ x: '1' }));
  assert.is.not(trialHash({ x: [1, 2] }), trialHash({ x: [2, 1] }));
});

test('trialHash: a trial config does not change when the sweep block changes', () => {
  const edited = { ...CONFIG, sweep: { matrix: { 'optimizer.lr': [0.1, 0.2] }, max_parallel: 4 } };
  assert.is(trialHash(applyTrial(CONFIG, { 'optimizer.lr': 0.1 })), trialHash(applyTrial(edited, { 'optimizer.lr': 0.1 })));
});

test('canonicalJson: values JSON cannot hold are refused, naming where', () => {
  assert.throws(
    () => canonicalJson({ train: { patience: Infinity } }),
    (error: unknown) => error instanceof UserError && error.message.includes('train.patience'),
  );
  assert.throws(() => canonicalJson({ x: new Map() }), TypeError);
});

test.run();
