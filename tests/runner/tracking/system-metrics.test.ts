import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSystemSampler } from '../../../runner/tracking/system-metrics.ts';

test('samples CPU %, machine memory and process RSS under system/ names', () => {
  const sample = createSystemSampler();
  const end = Date.now() + 50;
  while (Date.now() < end) Math.sqrt(Math.random()); // some CPU work between samples
  const s = sample();
  assert.equal(Object.keys(s).sort(), [
    'system/cpu_utilization_percentage',
    'system/process_rss_megabytes',
    'system/system_memory_usage_megabytes',
  ]);
  assert.ok(s['system/cpu_utilization_percentage']! >= 0 && s['system/cpu_utilization_percentage']! <= 100);
  assert.ok(s['system/process_rss_megabytes']! > 10);
  assert.ok(s['system/system_memory_usage_megabytes']! >= s['system/process_rss_megabytes']!);
});

test.run();
