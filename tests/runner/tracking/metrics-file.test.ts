import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMetricsLine, readMetricsFile, recordToMetrics } from '../../../runner/tracking/metrics-file.ts';
import { pointId } from '../../../runner/tracking/remote-run.ts';

test('formatMetricsLine keeps NaN and ±Infinity through the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-metrics-file-'));
  try {
    const record = { step: 3, epoch: 1, timestamp: 1700000000000, metrics: { a: NaN, b: Infinity, c: -Infinity, d: 0.5 } };
    writeFileSync(join(dir, 'metrics.jsonl'), formatMetricsLine(record) + '{"step": 4, "tim');
    const { records, badLines } = readMetricsFile(join(dir, 'metrics.jsonl'));
    assert.is(badLines, 1, 'the torn last line is counted, not thrown');
    assert.equal(recordToMetrics(records[0]!), [
      { key: 'a', value: NaN, timestamp: 1700000000000, step: 3 },
      { key: 'b', value: Infinity, timestamp: 1700000000000, step: 3 },
      { key: 'c', value: -Infinity, timestamp: 1700000000000, step: 3 },
      { key: 'd', value: 0.5, timestamp: 1700000000000, step: 3 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a plain JSON.stringify line (null for NaN/Inf) reads as NaN and matches any non-finite point in MLflow', () => {
  const plain = JSON.parse(JSON.stringify({ step: 1, timestamp: 5, metrics: { loss: Infinity, acc: 'x', ok: 1 } }));
  const points = recordToMetrics(plain);
  assert.equal(
    points.map((p) => p.key),
    ['loss', 'ok'],
    'values that are not numbers are skipped',
  );
  assert.ok(Number.isNaN(points[0]!.value));
  assert.is(pointId(points[0]!), pointId({ key: 'loss', value: 1.7976931348623157e308, timestamp: 5, step: 1 }));
  assert.is.not(pointId(points[1]!), pointId({ key: 'ok', value: 2, timestamp: 5, step: 1 }));
});

test('a missing file is no records', () => {
  assert.equal(readMetricsFile('/nonexistent/metrics.jsonl'), { records: [], badLines: 0 });
});

test.run();
