/**
 * One run of a config, as `runner run` and a sweep's trial process do it: load the config (or plan the resume of an
 * interrupted run), train with Ctrl-C / SIGTERM stopping cleanly, print the closing line, and report every step as
 * data to `events` (the trial process sends them to its sweep).
 */
import { resolve } from 'node:path';
import { interruptedExitCode, withInterrupts } from '../common/interrupts.ts';
import type { ConfigOverride } from '../config/load.ts';
import { loadConfigWithPlugins } from '../config/plugins.ts';
import { withConfigLocations } from '../config/locations.ts';
import { exitCodeOf } from '../errors.ts';
import type { Progress } from '../progress.ts';
import type { RunEventSink } from './run-events.ts';
import { assertStaticallyValid } from './check.ts';
import { planResume } from './resume.ts';
import { runExperiment, type RunOutcome } from './run-experiment.ts';

/** Default folder for run outputs: RUNNER_RUNS_DIR, else ./runs. */
export function defaultRunsDir(): string {
  return resolve(process.env.RUNNER_RUNS_DIR ?? 'runs');
}

/** What to run: a config file (with `--set` overrides), or an interrupted run folder to continue. */
export type RunRequest =
  { config: string; overrides?: ConfigOverride[]; runsDir: string; dryRun?: boolean } | { resume: string; force?: boolean };

/** How to run it. */
export interface RunConfigOptions {
  progress: Progress;
  /** The MLflow run this run is nested under (a sweep's parent run). */
  parentRunId?: string;
  /** Receives the run's folder, MLflow run, metrics and end, as data. */
  events?: RunEventSink;
}

/** Runs a request to its end; resolves to the outcome and the exit code. Errors (bad config) are reported to `events` and thrown. */
export async function runConfig(request: RunRequest, options: RunConfigOptions): Promise<{ outcome: RunOutcome; exitCode: number }> {
  const { progress, events } = options;
  try {
    const resume =
      'resume' in request ? await planResume(request.resume, { force: request.force ?? false, warn: (m) => progress.warn(m) }) : undefined;
    const loaded =
      resume?.loaded ??
      (await loadConfigWithPlugins((request as { config: string }).config, (request as { overrides?: ConfigOverride[] }).overrides ?? []));
    await assertStaticallyValid(loaded); // before any data loads; its warnings come again from the run, as it builds
    let stop: AbortSignal | undefined;
    const outcome = await withInterrupts(
      (message) => progress.warn(message),
      (signal) => {
        stop = signal;
        return withConfigLocations(loaded, () =>
          runExperiment(loaded, {
            runsDir: resume?.runsDir ?? (request as { runsDir: string }).runsDir,
            progress,
            dryRun: 'dryRun' in request ? (request.dryRun ?? false) : false,
            signal,
            resume: resume?.point,
            parentRunId: options.parentRunId,
            events,
          }),
        );
      },
    );
    const exitCode = closingLine(outcome, progress, stop);
    events?.({
      type: 'end',
      status: outcome.status,
      exit_code: exitCode,
      metrics: outcome.metrics,
      ...(outcome.mlflowRunId && { mlflow_run_id: outcome.mlflowRunId }),
      ...(outcome.error !== undefined && { error: { message: messageOf(outcome.error), exit_code: exitCodeOf(outcome.error) } }),
    });
    return { outcome, exitCode };
  } catch (error) {
    events?.({
      type: 'end',
      status: 'FAILED',
      exit_code: exitCodeOf(error),
      metrics: {},
      error: { message: messageOf(error), exit_code: exitCodeOf(error) },
    });
    throw error;
  }
}

/** Prints how the run ended; returns its exit code. */
function closingLine(outcome: RunOutcome, progress: Progress, stop: AbortSignal | undefined): number {
  if (outcome.status === 'DRY_RUN') return 0;
  if (outcome.status === 'KILLED') {
    progress.warn(`run ${outcome.runId} was interrupted; everything up to the last step is in ${outcome.runDir}`);
    return interruptedExitCode(stop);
  }
  if (outcome.status === 'FAILED') {
    progress.warn(`run ${outcome.runId} failed: ${messageOf(outcome.error)}\n(run folder: ${outcome.runDir})`);
    return exitCodeOf(outcome.error);
  }
  const m = outcome.metrics;
  const selected = m.best_epoch !== undefined ? ` (the model of epoch ${m.best_epoch}, selected by ${outcome.monitor?.metric})` : '';
  progress.info(
    `finished: test accuracy ${m.test_accuracy?.toFixed(4)}, test loss ${m.test_loss?.toFixed(4)}${selected}; run folder ${outcome.runDir}`,
  );
  return 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
