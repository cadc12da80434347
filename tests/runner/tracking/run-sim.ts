import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as assert from 'uvu/assert';
import type { MlflowClient } from '../../../runner/tracking/client.ts';
import type { Metric } from '../../../runner/tracking/limits.ts';
import { formatMetricsLine, type MetricsRecord, readMetricsFile, recordToMetrics } from '../../../runner/tracking/metrics-file.ts';
import { pointId } from '../../../runner/tracking/remote-run.ts';
import type { Tracker } from '../../../runner/tracking/tracker.ts';

/** The resolved config a simulated run hands to start(). */
export const SIM_CONFIG = {
  name: 'sim',
  description: 'A *simulated* run for the tracking tests.',
  model: { type: 'mlp', hidden: [64, 32] },
  optimizer: {
    type: 'adam',
    lr: 0.001,
    param_groups: [
      { match: 'dense_1*', lr_mult: 2 },
      { match: 'dense_2*', lr_mult: 0.5 },
    ],
  },
  train: { epochs: 3, batch_size: 32 },
};

/** Options of a simulated run. */
export interface SimOptions {
  steps: number;
  stepsPerEpoch?: number;
  /** ms to wait after each step (default 0: yield only). */
  paceMs?: number;
  /** Called before step `step` is logged (e.g. to kill the server). */
  onStep?: (step: number) => Promise<void> | void;
}

/**
 * Runs the training loop's side of the contract without TensorFlow: writes the run folder (config.yaml, vocab.txt,
 * metrics.jsonl line by line, model/, summary.json) and mirrors every record to the tracker. Returns the slowest
 * tracker.metrics() call in ms.
 */
export async function simulateRun(tracker: Tracker, runDir: string, options: SimOptions): Promise<{ slowestMetricsCallMs: number }> {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'config.yaml'), 'name: sim\nmodel:\n  type: mlp\n');
  writeFileSync(join(runDir, 'vocab.txt'), 'the\ncat\nsat\n');
  const file = join(runDir, 'metrics.jsonl');
  const perEpoch = options.stepsPerEpoch ?? 50;
  let slowest = 0;
  const base = Date.now();
  for (let step = 1; step <= options.steps; step++) {
    await options.onStep?.(step);
    const epoch = Math.ceil(step / perEpoch);
    const loss = step === 7 ? NaN : step === 8 ? Infinity : 1 / step;
    const records: MetricsRecord[] = [
      {
        step,
        epoch,
        timestamp: base + step * 10,
        metrics: {
          train_loss: loss,
          train_accuracy: 1 - 1 / (step + 1),
          'lr/default': 0.001,
          'lr/dense_1': step === 9 ? -Infinity : 0.002,
        },
      },
    ];
    if (step % perEpoch === 0) {
      records.push({
        step,
        epoch,
        timestamp: base + step * 10 + 5,
        metrics: { test_loss: 0.5 / epoch, test_accuracy: 0.7 + epoch / 100, examples_per_sec: 1234.5, epoch_time_s: 2.5 },
      });
    }
    for (const record of records) {
      appendFileSync(file, formatMetricsLine(record));
      const t0 = performance.now();
      tracker.metrics(record);
      slowest = Math.max(slowest, performance.now() - t0);
    }
    if (options.paceMs) await new Promise((r) => setTimeout(r, options.paceMs));
    else await new Promise((r) => setImmediate(r));
  }
  mkdirSync(join(runDir, 'model'), { recursive: true });
  writeFileSync(
    join(runDir, 'model', 'model.json'),
    JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'] }] }),
  );
  writeFileSync(join(runDir, 'model', 'weights.bin'), Buffer.alloc(4096, 7));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ steps: options.steps, final: { test_accuracy: 0.73 } }));
  return { slowestMetricsCallMs: slowest };
}

/** Asserts that every metric history of the run equals metrics.jsonl exactly: no point missing, none duplicated. */
export async function assertHistoriesEqualFile(client: MlflowClient, runId: string, runDir: string): Promise<number> {
  const { records, badLines } = readMetricsFile(join(runDir, 'metrics.jsonl'));
  assert.is(badLines, 0);
  const expected = new Map<string, Metric[]>();
  for (const m of records.flatMap(recordToMetrics)) {
    if (!expected.has(m.key)) expected.set(m.key, []);
    expected.get(m.key)!.push(m);
  }
  const run = await client.getRun(runId);
  assert.ok(run, `run ${runId} exists`);
  const latestKeys = new Set(run.data.metrics.map((m) => m.key));
  assert.equal([...latestKeys].sort(), [...expected.keys()].sort(), 'the run has exactly the metric keys of metrics.jsonl');
  let points = 0;
  for (const [key, want] of expected) {
    const got = await client.getMetricHistory(runId, key);
    const order = (a: Metric, b: Metric) => a.step - b.step || a.timestamp - b.timestamp;
    assert.equal(got.map(pointId).sort(), want.map(pointId).sort(), `history of ${key}`);
    assert.is(got.length, want.length, `${key}: no point duplicated`);
    assert.equal(got.sort(order), want.sort(order), `history of ${key}, values`);
    points += got.length;
  }
  return points;
}

/** Every file of a folder (relative paths, '/'), except tracking.json. */
export function folderFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.filter((f) => f !== 'tracking.json').sort();
}

/** The text of every file in a folder, joined (to search for leaked secrets). */
export function allText(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else parts.push(readFileSync(p).toString('latin1'));
    }
  };
  walk(dir);
  return parts.join('\n');
}
