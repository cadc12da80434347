// TrialPool with real trial processes (bin/runner.js `sweep --worker`) training a tiny TextCNN, tracking off.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SweepFolder } from '../../../runner/sweep/folder.ts';
import { planSweep, type SweepPlan } from '../../../runner/sweep/plan.ts';
import { TrialPool, type PoolOptions } from '../../../runner/sweep/pool.ts';
import { sweepEndStatus } from '../../../runner/sweep/session.ts';
import type { TrialProgress } from '../../../runner/sweep/state.ts';
import { fixture, tempDir } from '../../helpers/files.ts';
import { sweepFile, UNTIL_STOPPED, waitFor } from './fixture.ts';

const SILENT_BIN = fixture('bin/silent-runner.mjs');

/** A plan of a tiny sweep with this matrix (YAML flow mappings of its vectors); a missing dataset fails when its run builds. */
function planOf(vectors: Record<string, unknown[]>, train = '{epochs: 1, log_every_steps: 5}'): { plan: SweepPlan; runsDir: string } {
  const dir = tempDir();
  const matrix = `  matrix:\n${Object.entries(vectors)
    .map(([path, values]) => `    ${path}: ${JSON.stringify(values)}`)
    .join('\n')}`;
  return { plan: planSweep(sweepFile(dir, { name: 'pool', uri: false, sweep: matrix, train })), runsDir: join(dir, 'runs') };
}

/** A pool over a plan; `busiest` is the most trials that were starting or running at once. */
function poolOf(plan: SweepPlan, runsDir: string, options: Partial<PoolOptions> = {}) {
  const folder = new SweepFolder(runsDir, plan).prepare();
  const trials = plan.trials.map((trial): TrialProgress => ({ trial, state: 'pending', epochs: trial.config.train.epochs }));
  const seen = { busiest: 0 };
  const lines: string[] = [];
  const pool = new TrialPool({
    runsDir,
    folderFor: () => folder,
    maxParallel: 1,
    failFast: false,
    prewarm: true,
    metric: 'test_accuracy',
    processEnv: () => ({}),
    parentRunId: () => undefined,
    onChange: () => {
      const busy = trials.filter((t) => t.state === 'starting' || t.state === 'running').length;
      seen.busiest = Math.max(seen.busiest, busy);
    },
    log: (line) => lines.push(line),
    killGraceMs: 20_000,
    ...options,
  });
  return { pool, trials, seen, lines };
}

test('runs every trial, at most max_parallel at once, learning each run from its messages alone (no output)', async () => {
  const { plan, runsDir } = planOf({ 'optimizer.lr': [0.01, 0.02, 0.03] });
  const { pool, trials, seen } = poolOf(plan, runsDir, { maxParallel: 2, bin: SILENT_BIN });
  pool.add(trials);
  await pool.drained();
  await pool.close();
  assert.equal(
    trials.map((t) => t.state),
    ['finished', 'finished', 'finished'],
  );
  assert.ok(seen.busiest <= 2 && seen.busiest >= 1, `busiest ${seen.busiest}`);
  for (const t of trials) {
    assert.ok(t.runDir && existsSync(join(t.runDir, 'summary.json')), `run folder of trial ${t.trial.index}`);
    assert.is(t.epoch, 1);
    assert.type(t.metric, 'number');
    assert.type(t.metrics?.test_accuracy, 'number');
    assert.is(t.exit, 0);
    // The trial printed nothing, yet its run folder, epochs and metrics are known.
    assert.not.match(readFileSync(t.logFile!, 'utf8'), /run \S+: \//);
  }
});

test('a trial that fails reports its error; fail_fast cancels the rest', async () => {
  const { plan, runsDir } = planOf({ 'data.dataset.path': ['/nonexistent/pool-data', fixture('sentences')], 'optimizer.lr': [0.01, 0.02] });
  const { pool, trials, lines } = poolOf(plan, runsDir, { failFast: true });
  pool.add(trials);
  await pool.drained();
  await pool.close();
  assert.equal(
    trials.map((t) => t.state),
    ['failed', 'cancelled', 'cancelled', 'cancelled'],
  );
  assert.match(trials[0]!.error ?? '', '/nonexistent/pool-data');
  assert.is(trials[0]!.exit, 2);
  assert.ok(pool.failedFast);
  assert.match(lines.join('\n'), 'fail_fast is on');
  assert.is(sweepEndStatus(trials, { failedFast: pool.failedFast }), 'FAILED');
});

test('a trial whose process dies (SIGKILL) ends killed from outside; stopAll (Ctrl-C) stops the others cleanly', async () => {
  const { plan, runsDir } = planOf({ 'optimizer.lr': [0.01, 0.02] }, UNTIL_STOPPED);
  const { pool, trials } = poolOf(plan, runsDir, { maxParallel: 2 });
  pool.add(trials);
  await waitFor('both trials training', () => trials.every((t) => (t.epoch ?? 0) >= 1) || undefined, 120_000);
  process.kill(trials[0]!.pid!, 'SIGKILL');
  await waitFor('the killed trial to end', () => (trials[0]!.state === 'killed' ? true : undefined));
  assert.match(trials[0]!.error ?? '', 'stopped from outside (SIGKILL)');
  assert.is(trials[1]!.state, 'running');
  pool.stopAll();
  await pool.drained();
  await pool.close();
  assert.is(trials[1]!.state, 'killed');
  assert.is(trials[1]!.stopped, true);
  assert.is(trials[1]!.error, undefined);
  assert.is(trials[1]!.exit, 143);
  assert.is(JSON.parse(readFileSync(join(trials[1]!.runDir!, 'summary.json'), 'utf8')).status, 'KILLED');
  assert.is(sweepEndStatus(trials, { interrupted: true }), 'KILLED');
});

test.run();
