/** What is known about each trial while a sweep runs, and the tables made from it. */
import type { MetricDefinition } from '../config/sweep-schema.ts';
import type { PlannedRun } from './plan.ts';
import { formatDuration, formatMetric, formatTable, markdownTable, truncate } from './table.ts';

/**
 * State of a trial. done: a FINISHED run with its config hash existed before (skipped); duplicate: another trial has
 * the same resolved config; cancelled: never started (fail_fast, Ctrl-C, or no longer in the config).
 */
export type TrialState = 'pending' | 'done' | 'duplicate' | 'starting' | 'running' | 'finished' | 'failed' | 'killed' | 'cancelled';

/** One trial of a sweep as it goes. */
export interface TrialProgress {
  trial: PlannedRun;
  state: TrialState;
  /** Last completed epoch, and the trial's number of epochs. */
  epoch?: number;
  epochs: number;
  /** Latest value of the sweep metric. */
  metric?: number;
  /** Final metrics (summary.json, or the MLflow run of a done trial). */
  metrics?: Record<string, number>;
  /** Run folder, and its run id (the folder's name). */
  runDir?: string;
  runId?: string;
  /** The trial's MLflow run. */
  mlflowRunId?: string;
  /** MLflow run id of the sweep parent the run is nested under, when known. */
  parentRunId?: string;
  startedAt?: number;
  endedAt?: number;
  /** Exit code or signal of the trial's process. */
  exit?: number | string | null;
  /** Why it failed, as its run reported it. */
  error?: string;
  /** True when its sweep (or watch) stopped it: Ctrl-C, fail_fast, an edit that changed or removed it. */
  stopped?: boolean;
  /** Log file of the trial's process. */
  logFile?: string;
  pid?: number;
  /** The run folder of an earlier, interrupted run of this trial with a checkpoint: it is continued (runner run --resume). */
  resumeDir?: string;
}

/** States after which a trial does nothing more. */
export const TERMINAL_STATES: ReadonlySet<TrialState> = new Set(['done', 'duplicate', 'finished', 'failed', 'killed', 'cancelled']);

/** True for a trial whose result counts as finished (ran now or before). */
export function succeeded(progress: TrialProgress): boolean {
  return progress.state === 'finished' || progress.state === 'done';
}

/** Seconds a trial ran (so far). */
export function trialSeconds(progress: TrialProgress, now = Date.now()): number | undefined {
  if (progress.startedAt === undefined) return undefined;
  return ((progress.endedAt ?? now) - progress.startedAt) / 1000;
}

/** The trials ranked by the metric (best first); trials without a value come last, in trial order. */
export function leaderboard(trials: TrialProgress[], metric: MetricDefinition): TrialProgress[] {
  const sign = metric.goal === 'maximize' ? -1 : 1;
  const value = (p: TrialProgress) => finalMetric(p, metric);
  return [...trials].sort((a, b) => {
    const [va, vb] = [value(a), value(b)];
    if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? a.trial.index - b.trial.index : 1) : -1;
    return va === vb ? a.trial.index - b.trial.index : sign * (va - vb);
  });
}

/** The metric of a trial that counts for ranking: its final value when it succeeded, else undefined. */
export function finalMetric(progress: TrialProgress, metric: MetricDefinition): number | undefined {
  if (!succeeded(progress)) return undefined;
  const value = progress.metrics?.[metric.name] ?? progress.metric;
  return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
}

/** The best trial that has a value of the metric, if any. */
export function bestTrial(trials: TrialProgress[], metric: MetricDefinition): TrialProgress | undefined {
  const [first] = leaderboard(trials, metric);
  return first && finalMetric(first, metric) !== undefined ? first : undefined;
}

/** The live table: one row per trial (state, epoch, metric, time, run). */
export function liveTable(trials: TrialProgress[], metric: MetricDefinition, width = 120): string {
  const labelWidth = Math.max(20, Math.min(60, width - 60));
  const rows = trials.map((p) => [
    String(p.trial.index),
    truncate(p.trial.label, labelWidth),
    describeState(p),
    p.epoch === undefined ? '' : `${p.epoch}/${p.epochs}`,
    formatMetric(p.metrics?.[metric.name] ?? p.metric),
    formatDuration(trialSeconds(p)),
    p.mlflowRunId ? p.mlflowRunId.slice(0, 8) : (p.runId ?? ''),
  ]);
  return formatTable(['#', 'trial', 'state', 'epoch', metric.name, 'time', 'run'], rows, [
    'right',
    'left',
    'left',
    'right',
    'right',
    'right',
    'left',
  ]);
}

/** The final leaderboard (best first) as text. */
export function leaderboardTable(trials: TrialProgress[], metric: MetricDefinition, width = 120): string {
  const labelWidth = Math.max(20, Math.min(70, width - 50));
  const rows = leaderboard(trials, metric).map((p, i) => {
    const value = finalMetric(p, metric);
    return [
      value === undefined ? '' : String(i + 1),
      String(p.trial.index),
      truncate(p.trial.label, labelWidth),
      formatMetric(value),
      describeState(p),
      p.mlflowRunId ?? p.runId ?? '',
    ];
  });
  return formatTable(['rank', '#', 'trial', metric.name, 'state', 'run'], rows, ['right', 'right', 'left', 'right', 'left', 'left']);
}

/** The summary artifact: a Markdown leaderboard with every swept value as a column. */
export function summaryMarkdown(title: string, trials: TrialProgress[], metric: MetricDefinition): string {
  const paths = [...new Set(trials.flatMap((p) => Object.keys(p.trial.values)))];
  const ranked = leaderboard(trials, metric);
  const rows = ranked.map((p, i) => {
    const value = finalMetric(p, metric);
    return [
      value === undefined ? '' : String(i + 1),
      String(p.trial.index),
      ...paths.map((path) => (path in p.trial.values ? JSON.stringify(p.trial.values[path]) : '')),
      formatMetric(value),
      p.state,
      formatDuration(trialSeconds(p)),
      p.mlflowRunId ?? '',
      p.runId ?? '',
    ];
  });
  const best = bestTrial(trials, metric);
  const head = best
    ? `Best: trial ${best.trial.index} (${best.trial.label}) with ${metric.name} ${formatMetric(finalMetric(best, metric))} (${metric.goal}).`
    : `No trial has a value of ${metric.name} yet.`;
  return (
    `# ${title}\n\n${head}\n\n` +
    markdownTable(['rank', '#', ...paths, metric.name, 'state', 'time', 'MLflow run', 'run folder'], rows, [
      'right',
      'right',
      ...paths.map(() => 'left' as const),
      'right',
      'left',
      'right',
      'left',
      'left',
    ]) +
    '\n'
  );
}

/** A trial's state for people: `running`, `done (earlier)`, `= #2`, `failed (exit 1)`. */
export function describeState(progress: TrialProgress): string {
  switch (progress.state) {
    case 'done':
      return 'done earlier';
    case 'duplicate':
      return `same as #${progress.trial.duplicateOf}`;
    case 'failed':
      return typeof progress.exit === 'number' ? `failed (exit ${progress.exit})` : progress.exit ? `failed (${progress.exit})` : 'failed';
    default:
      return progress.state;
  }
}
