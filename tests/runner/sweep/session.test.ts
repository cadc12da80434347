import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FoundRun } from '../../../runner/sweep/records.ts';
import { adoptRun, sweepEndStatus } from '../../../runner/sweep/session.ts';
import type { TrialProgress } from '../../../runner/sweep/state.ts';

const trial = (state: TrialProgress['state'], extra: Partial<TrialProgress> = {}): TrialProgress =>
  ({ trial: { index: 0 }, state, epochs: 1, ...extra }) as TrialProgress;

test('one rule for how a sweep ended, for runner sweep, --trial K and runner watch', () => {
  assert.is(sweepEndStatus([trial('finished'), trial('done'), trial('duplicate')]), 'FINISHED');
  assert.is(sweepEndStatus([trial('finished'), trial('failed')]), 'FAILED');
  // killed from outside (no stop of ours): a failure, as the docs say
  assert.is(sweepEndStatus([trial('finished'), trial('killed', { error: 'its process was stopped from outside (SIGKILL)' })]), 'FAILED');
  // stopped by the session (an edit in watch mode) or never run
  assert.is(sweepEndStatus([trial('finished'), trial('killed', { stopped: true })]), 'KILLED');
  assert.is(sweepEndStatus([trial('finished'), trial('cancelled')]), 'KILLED');
  assert.is(sweepEndStatus([trial('finished'), trial('pending')]), 'KILLED');
  // fail_fast cancels the rest after a failure: FAILED; Ctrl-C: KILLED whatever the trials did
  assert.is(sweepEndStatus([trial('failed'), trial('cancelled'), trial('killed', { stopped: true })], { failedFast: true }), 'FAILED');
  assert.is(sweepEndStatus([trial('finished'), trial('finished')], { interrupted: true }), 'KILLED');
});

test('adoptRun takes a found run into a trial', () => {
  const progress = trial('pending');
  const run: FoundRun = {
    status: 'FINISHED',
    metrics: { best_val_loss: 0.5 },
    mlflowRunId: 'abc',
    runDir: '/r/x',
    runId: 'x',
    startTime: 1,
    endTime: 2,
  };
  adoptRun(progress, run, 'done', 'best_val_loss');
  assert.equal(
    [progress.state, progress.metric, progress.mlflowRunId, progress.runDir, progress.runId, progress.startedAt, progress.endedAt],
    ['done', 0.5, 'abc', '/r/x', 'x', 1, 2],
  );
  const missing = trial('pending');
  adoptRun(missing, undefined, 'failed', 'best_val_loss');
  assert.equal([missing.state, missing.runDir], ['failed', undefined]);
});

test.run();
