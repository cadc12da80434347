import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkBatch, decodeMetricValue, LIMITS, type Metric, safeKey, toJson } from '../../../runner/tracking/limits.ts';

test('chunkBatch keeps every item, in order, within the per-kind and total limits', () => {
  const metrics: Metric[] = Array.from({ length: 2500 }, (_, i) => ({ key: `m${i % 7}`, value: i, timestamp: 1000 + i, step: i }));
  const params = Array.from({ length: 230 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
  const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: 'x' }));
  const chunks = chunkBatch({ metrics, params, tags });
  for (const c of chunks) {
    assert.ok(c.metrics.length <= LIMITS.metricsPerBatch);
    assert.ok(c.params.length <= LIMITS.paramsPerBatch);
    assert.ok(c.tags.length <= LIMITS.tagsPerBatch);
    assert.ok(c.metrics.length + c.params.length + c.tags.length <= LIMITS.itemsPerBatch);
    assert.ok(Buffer.byteLength(toJson(c)) < 1_000_000);
  }
  assert.equal(
    chunks.flatMap((c) => c.metrics),
    metrics,
  );
  assert.equal(
    chunks.flatMap((c) => c.params),
    params,
  );
  assert.equal(
    chunks.flatMap((c) => c.tags),
    tags,
  );
});

test('chunkBatch splits by bytes: 100 params of 6000 four-byte characters do not go in one request', () => {
  const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: '😀'.repeat(6000) }));
  const chunks = chunkBatch({ params });
  assert.ok(chunks.length > 1, `expected several chunks, got ${chunks.length}`);
  for (const c of chunks) assert.ok(Buffer.byteLength(toJson(c)) <= LIMITS.batchBytes + 1000);
  assert.is(chunks.flatMap((c) => c.params).length, 100);
});

test('chunkBatch of nothing is no request', () => {
  assert.equal(chunkBatch({}), []);
});

test('toJson writes NaN and ±Infinity as the strings MLflow accepts', () => {
  assert.is(toJson({ a: NaN, b: Infinity, c: -Infinity, d: 1.5 }), '{"a":"NaN","b":"Infinity","c":"-Infinity","d":1.5}');
});

test("decodeMetricValue maps MLflow's NaN string and ±DBL_MAX back", () => {
  assert.ok(Number.isNaN(decodeMetricValue('NaN')));
  assert.is(decodeMetricValue(1.7976931348623157e308), Infinity);
  assert.is(decodeMetricValue(-1.7976931348623157e308), -Infinity);
  assert.is(decodeMetricValue(0.25), 0.25);
});

test('safeKey keeps valid keys and repairs invalid ones', () => {
  assert.is(safeKey('optimizer.param_groups.0.lr_mult'), 'optimizer.param_groups.0.lr_mult');
  assert.is(safeKey('lr/default'), 'lr/default');
  assert.is(safeKey('a weird:key-1'), 'a weird:key-1');
  assert.is(safeKey('/lead//slash'), 'lead/slash');
  assert.is(safeKey('a/../b'), 'a/__/b');
  assert.is(safeKey('what?#'), 'what__');
  assert.is(safeKey(''), '_');
  const long = safeKey('k'.repeat(400));
  assert.is([...long].length, LIMITS.keyLength);
  assert.is.not(long, safeKey(`${'k'.repeat(399)}j`));
});

test.run();
