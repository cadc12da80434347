import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LIMITS } from '../../../runner/tracking/limits.ts';
import { flattenParams, LONG_VALUES_FILE, prepareParams, prepareTags } from '../../../runner/tracking/params.ts';

test('flattenParams gives every leaf a dotted key', () => {
  const flat = flattenParams({
    name: 'quick',
    optimizer: { type: 'adam', param_groups: [{ lr_mult: 2, match: 'dense*' }, { lr_mult: 0.5 }] },
    data: { shuffle: true, seed: null, extra: {}, list: [] },
    skipped: undefined,
  });
  assert.equal(flat, {
    name: 'quick',
    'optimizer.type': 'adam',
    'optimizer.param_groups.0.lr_mult': '2',
    'optimizer.param_groups.0.match': 'dense*',
    'optimizer.param_groups.1.lr_mult': '0.5',
    'data.shuffle': 'true',
    'data.seed': 'null',
    'data.extra': '{}',
    'data.list': '[]',
  });
});

test('prepareParams moves values over the limit to the long-values artifact, pointing to it', () => {
  const long = 'x'.repeat(LIMITS.paramValueLength + 1);
  const { params, long: full } = prepareParams({ short: 'ok', big: long, 'bad key?': 'v' });
  assert.equal(params[0], { key: 'short', value: 'ok' });
  assert.is(params[1]!.key, 'big');
  assert.ok(params[1]!.value.includes(LONG_VALUES_FILE));
  assert.ok(params[1]!.value.length <= LIMITS.paramValueLength);
  assert.is(full.big, long);
  assert.equal(params[2], { key: 'bad key_', value: 'v' });
});

test('prepareTags truncates long tags within the limit and keeps the full text', () => {
  const note = 'n'.repeat(LIMITS.tagValueLength + 50);
  const { tags, long } = prepareTags({ 'mlflow.note.content': note });
  assert.ok([...tags[0]!.value].length <= LIMITS.tagValueLength);
  assert.ok(tags[0]!.value.startsWith('nnnn'));
  assert.is(long['mlflow.note.content'], note);
});

test('keys that collide after repair stay distinct', () => {
  const { params } = prepareParams({ 'a?': '1', 'a#': '2' });
  assert.is(params.length, 2);
  assert.is.not(params[0]!.key, params[1]!.key);
});

test.run();
