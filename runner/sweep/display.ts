/** The sweep's terminal output: a live table redrawn in place on a terminal, one line per change elsewhere. */
import type { MetricDefinition } from '../config/sweep-schema.ts';
import { describeState, liveTable, TERMINAL_STATES, trialSeconds, type TrialProgress, type TrialState } from './state.ts';
import type { PlannedRun } from './plan.ts';
import { formatDuration, formatMetric, formatTable, truncate } from './table.ts';

/** Options of a SweepDisplay. */
export interface DisplayOptions {
  metric: MetricDefinition;
  /** Only warnings and the final leaderboard. */
  quiet?: boolean;
  /** Redraw a table in place (default: when `out` is a terminal and CI is unset). */
  live?: boolean;
}

/** Shows a sweep's trials as they go. */
export class SweepDisplay {
  readonly #out: NodeJS.WriteStream;
  readonly #options: DisplayOptions;
  readonly #live: boolean;
  #drawnLines = 0;
  #lastDraw = 0;
  #timer: NodeJS.Timeout | undefined;
  #header = '';
  #trials: TrialProgress[] = [];
  readonly #seen = new Map<TrialProgress, TrialState>();

  constructor(out: NodeJS.WriteStream, options: DisplayOptions) {
    this.#out = out;
    this.#options = options;
    this.#live = !options.quiet && (options.live ?? (Boolean(out.isTTY) && !process.env.CI));
  }

  /** The line above the table (sweep hash, counts, parent run). */
  setHeader(header: string): void {
    this.#header = header;
  }

  /** Shows the trials' current state (redraws at most 4 times a second on a terminal). */
  update(trials: TrialProgress[]): void {
    this.#trials = trials;
    if (this.#options.quiet) return;
    if (!this.#live) {
      this.#printChanges(trials);
      return;
    }
    const wait = 250 - (Date.now() - this.#lastDraw);
    if (wait <= 0) this.#draw();
    else this.#timer ??= setTimeout(() => this.#draw(), wait);
  }

  /** Prints a line for people, above the live table. */
  message(line: string): void {
    if (this.#live) this.#clear();
    this.#out.write(line + '\n');
    if (this.#live && this.#trials.length > 0) this.#draw();
  }

  /** Stops redrawing; the last table stays on screen. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#live && this.#trials.length > 0) this.#draw();
    this.#drawnLines = 0;
  }

  #draw(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastDraw = Date.now();
    const width = this.#out.columns || 120;
    const rows = Math.max(8, (this.#out.rows || 40) - 4);
    const shown = pickRows(this.#trials, rows - 3);
    const table = liveTable(shown, this.#options.metric, width)
      .split('\n')
      .map((line) => (line.length > width ? line.slice(0, width - 1) : line));
    const hidden = this.#trials.length - shown.length;
    const lines = [
      this.#header || counts(this.#trials),
      ...table,
      ...(hidden > 0 ? [`… ${hidden} more trials (${counts(this.#trials.filter((t) => !shown.includes(t)))})`] : []),
    ];
    this.#clear();
    this.#out.write(lines.join('\n') + '\n');
    this.#drawnLines = lines.length;
  }

  #clear(): void {
    if (this.#drawnLines > 0) this.#out.write(`\u001b[${this.#drawnLines}A\r\u001b[J`);
    this.#drawnLines = 0;
  }

  #printChanges(trials: TrialProgress[]): void {
    for (const trial of trials) {
      const before = this.#seen.get(trial);
      if (before === trial.state) continue;
      this.#seen.set(trial, trial.state);
      if (before === undefined && (trial.state === 'pending' || trial.state === 'starting')) continue;
      if (trial.state === 'starting') continue;
      this.#out.write(changeLine(trial, this.#options.metric) + '\n');
    }
  }
}

/** One line for a trial's new state, e.g. `trial 3 finished in 4.1s: test_accuracy 0.8100 (optimizer.lr=0.01)`. */
export function changeLine(trial: TrialProgress, metric: MetricDefinition): string {
  const head = `trial ${trial.trial.index}`;
  const label = `(${trial.trial.label})`;
  switch (trial.state) {
    case 'running':
      return `${head} running ${label}: run ${trial.runDir ?? ''}`;
    case 'finished': {
      const value = trial.metrics?.[metric.name] ?? trial.metric;
      return `${head} finished in ${formatDuration(trialSeconds(trial))}: ${metric.name} ${formatMetric(value)} ${label}`;
    }
    case 'done':
      return `${head} already finished earlier${trial.mlflowRunId ? ` (MLflow run ${trial.mlflowRunId})` : trial.runDir ? ` (${trial.runDir})` : ''}: skipped ${label}`;
    case 'failed':
    case 'killed':
      return `${head} ${describeState(trial)}${trial.error ? `: ${trial.error}` : ''} ${label}${trial.logFile ? `; log: ${trial.logFile}` : ''}`;
    default:
      return `${head} ${describeState(trial)} ${label}`;
  }
}

/** `8 trials: 2 running, 3 finished, 1 failed, 2 pending`. */
export function counts(trials: TrialProgress[]): string {
  const by = new Map<string, number>();
  for (const trial of trials) by.set(trial.state, (by.get(trial.state) ?? 0) + 1);
  const order: TrialState[] = ['running', 'starting', 'finished', 'done', 'failed', 'killed', 'pending', 'cancelled', 'duplicate'];
  const parts = order.filter((s) => by.has(s)).map((s) => `${by.get(s)} ${s === 'done' ? 'done earlier' : s}`);
  return `${trials.length} trial${trials.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** Rows that fit: running ones, then failed, then finished (latest), then pending, in trial order. */
function pickRows(trials: TrialProgress[], max: number): TrialProgress[] {
  if (trials.length <= max) return trials;
  const priority = (t: TrialProgress) =>
    t.state === 'running' || t.state === 'starting'
      ? 0
      : t.state === 'failed' || t.state === 'killed'
        ? 1
        : !TERMINAL_STATES.has(t.state)
          ? 2
          : 3;
  const chosen = [...trials].sort((a, b) => priority(a) - priority(b) || a.trial.index - b.trial.index).slice(0, max);
  return trials.filter((t) => chosen.includes(t));
}

/** The dry-run table: one row per trial, one column per swept path, and the trial's config hash. */
export function planTable(trials: PlannedRun[], width = 160): string {
  const paths = [...new Set(trials.flatMap((t) => Object.keys(t.values)))];
  const cell = Math.max(8, Math.min(30, Math.floor((width - 30) / Math.max(1, paths.length)) - 2));
  const rows = trials.map((t) => [
    String(t.index),
    ...paths.map((path) => (path in t.values ? truncate(compact(t.values[path]), cell) : '')),
    t.hash.slice(0, 12),
    ...(trials.some((d) => d.duplicateOf !== undefined)
      ? [t.duplicateOf === undefined ? '' : `same config as #${t.duplicateOf}: runs once`]
      : []),
  ]);
  const notes = trials.some((d) => d.duplicateOf !== undefined) ? ['note'] : [];
  return formatTable(['#', ...paths, 'config hash', ...notes], rows, ['right', ...paths.map(() => 'left' as const), 'left', 'left']);
}

/** `4 trials (3 distinct configs), every resolved config valid`: what a validated plan checked (dry run, runner validate). */
export function validTrials(trials: PlannedRun[]): string {
  const distinct = trials.filter((t) => t.duplicateOf === undefined).length;
  return `${trials.length} trials${distinct < trials.length ? ` (${distinct} distinct configs)` : ''}, every resolved config valid`;
}

function compact(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value) && Number(value.toPrecision(6)) !== value)
    return String(Number(value.toPrecision(4)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}
