/**
 * What `runner sweep` and `runner watch` share about a sweep's session: taking in runs that already exist, deciding
 * how the sweep ended, and closing its MLflow parent with the summary.
 */
import type { FoundRun, SweepRecords, SweepStatus } from './records.ts';
import { succeeded, type TrialProgress } from './state.ts';

/** Takes what a found run says (status as `state`, metrics, MLflow run, run folder, times) into a trial's progress. */
export function adoptRun(progress: TrialProgress, run: FoundRun | undefined, state: TrialProgress['state'], metric: string): void {
  progress.state = state;
  if (!run) return;
  progress.metrics = run.metrics;
  progress.metric = run.metrics[metric];
  progress.mlflowRunId = run.mlflowRunId;
  progress.parentRunId = run.parentRunId;
  progress.runDir = run.runDir;
  progress.runId = run.runId;
  if (run.startTime !== undefined) progress.startedAt = run.startTime;
  if (run.endTime !== undefined) progress.endedAt = run.endTime;
}

/** How the session came to its end. */
export interface SessionEnd {
  /** Ctrl-C or SIGTERM stopped it. */
  interrupted?: boolean;
  /** fail_fast stopped the other trials after a failure. */
  failedFast?: boolean;
}

/**
 * How a sweep ended: KILLED when interrupted, FINISHED when every trial succeeded (a duplicate counts as its twin),
 * KILLED when the session itself stopped or never ran some trial (an edit in watch mode), else FAILED (a trial
 * failed or was killed from outside; fail_fast stopping the rest is a failure too).
 */
export function sweepEndStatus(trials: readonly TrialProgress[], end: SessionEnd = {}): SweepStatus {
  if (end.interrupted) return 'KILLED';
  if (trials.every((t) => succeeded(t) || t.state === 'duplicate')) return 'FINISHED';
  const stoppedBySession = (t: TrialProgress) =>
    t.stopped === true || t.state === 'cancelled' || t.state === 'pending' || t.state === 'starting' || t.state === 'running';
  if (!end.failedFast && trials.some(stoppedBySession)) return 'KILLED';
  return 'FAILED';
}

/** Writes the sweep's summary and closes its parent run with `status`; a failure to reach MLflow is logged. */
export async function closeSweep(
  records: SweepRecords,
  trials: TrialProgress[],
  status: SweepStatus,
  log: (line: string) => void,
): Promise<boolean> {
  try {
    await records.finalize(trials, status);
    return true;
  } catch (error) {
    log(`could not record the sweep's summary in MLflow: ${(error as Error).message}`);
    return false;
  }
}
