import { resolve } from 'node:path';
import { trackingUri as trackingUriOf } from '../tracking/location.ts';
import type { Device } from '../backend/select.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { parseSetOption } from '../config/load.ts';
import { formatDiagnostics } from '../config/diagnostics.ts';
import { loadPlugins } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import { useColor } from '../terminal.ts';
import { counts, planTable, validTrials } from '../sweep/display.ts';
import { displayPath, emitKubernetes, emitSlurm, emitWarnings } from '../sweep/emit.ts';
import { planSweepChecked, type SweepPlan } from '../sweep/plan.ts';
import { RUNNER_BIN } from '../sweep/pool.ts';
import { PROJECT_ROOT } from '../tracking/server.ts';
import { runSweep } from '../sweep/run-sweep.ts';
import { finalMetric, leaderboardTable } from '../sweep/state.ts';
import { formatMetric } from '../sweep/table.ts';
import { runWorker } from '../sweep/worker.ts';
import type { Command } from './command.ts';
import { printJson, wantsJson, withJsonErrors } from './json-output.ts';
import { defaultRunsDir } from '../run/run-config.ts';
import { interruptedExitCode, withInterrupts } from '../common/interrupts.ts';

/** `runner sweep`: runs every trial of a config's sweep block (or one, or prints a job array for them). */
export const command: Command = {
  help: `Usage: runner sweep <config.yaml> [options]

Expands the config's sweep: block (matrix and/or random search, docs/SWEEPS.md), loads and validates every
trial's resolved config before anything runs (one invalid trial stops the sweep with its diagnostics), then
runs each trial as its own \`runner run\` process, at most sweep.max_parallel at a time, as MLflow runs nested
under one parent run of the sweep. A live table shows the trials; a leaderboard sorted by sweep.metric ends it.
(\`runner run\` on a config with a sweep: block does the same.)

Running the same sweep again resumes it: trials whose resolved config already FINISHED in the MLflow experiment
(matched by config hash; with tracking: false, by the run folders) are skipped, failed and killed ones run again,
and the parent run is found again by the sweep hash, never duplicated.

Options:
  --dry-run            Print the trials and validate every one; run nothing
  --trial <K>          Run only trial K (from 0), e.g. one task of a job array; without it, the index is read
                       from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array)
  --emit <k8s|slurm>   Print a Kubernetes Indexed Job manifest or a Slurm array script that runs every trial
  --image <image>      Container image for --emit k8s
  --rerun              Run trials again even when a FINISHED run with the same config exists
  --set <path=value>   Override a base config value (repeatable); trial values are applied on top of it
  --runs-dir <dir>     Where run folders go (default: $RUNNER_RUNS_DIR or ./runs); the sweep's own files go to
                       <runs-dir>/<name>/sweeps/<sweep hash>/ (trial configs and logs, matrix, summary)
  --json               Print one JSON document on stdout: {status, sweep_folder, parent_run_id, parent_run_url, metric,
                       trials: [{index, label, state, run_folder, mlflow_run_id, metric, metrics, error}]}; the
                       leaderboard and everything else go to stderr (with --dry-run: {status: "DRY_RUN", trials})
  --quiet              Only warnings, failures and the leaderboard

Parallel trials on the native backend get cores / max_parallel TensorFlow threads each (TF_NUM_INTRAOP_THREADS,
TF_NUM_INTEROP_THREADS=1; set them yourself to override).
Ctrl-C stops every trial after its current step; the trials and the parent end KILLED.
Exit codes: 0 every trial finished, 1 a trial failed or was killed, 2 bad input, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.

Examples:
  runner sweep sweep.yaml --dry-run
  runner sweep sweep.yaml --trial 3
  runner sweep sweep.yaml --emit k8s --image ghcr.io/me/runner:1 > sweep-job.yaml`,
  async run(argv) {
    if (argv[0] === '--worker') return runWorker(workerDevice(argv));
    return withJsonErrors(wantsJson(argv), () => sweepCommand(argv));
  },
};

async function sweepCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('sweep', argv, {
    json: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    trial: { type: 'string' },
    emit: { type: 'string' },
    image: { type: 'string' },
    rerun: { type: 'boolean' },
    'runs-dir': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UserError(`runner sweep takes one config file, got ${positionals.length}. See 'runner sweep --help'.`);
  const file = positionals[0]!;
  const runsDir = values['runs-dir'] ? resolve(values['runs-dir']) : defaultRunsDir();
  const overrides = (values.set ?? []).map(parseSetOption);
  await loadPlugins(file, overrides);
  const { plan, warnings } = await planSweepChecked(file, { overrides, requireSweep: true });
  for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (warnings.length > 0) process.stderr.write(formatDiagnostics(warnings, { color: useColor(process.stderr) }) + '\n');

  const json = values.json ?? false;
  // With --json, stdout holds the one JSON document: what people read goes to stderr.
  const out = json ? process.stderr : process.stdout;
  if (values.emit !== undefined) {
    if (json) throw new UserError('--json does not go with --emit (which prints a manifest or script on stdout).');
    return emit(plan, values.emit, { file, runsDir, image: values.image });
  }
  if (values['dry-run']) {
    out.write(dryRun(plan, runsDir) + '\n');
    if (json) printJson({ status: 'DRY_RUN', metric: plan.metric, trials: plan.trials.map((t) => ({ index: t.index, label: t.label })) });
    return 0;
  }
  const only = trialIndex(values.trial, plan);
  let stop: AbortSignal | undefined;
  const outcome = await withSweepInterrupts((signal) => {
    stop = signal;
    return runSweep(plan, {
      runsDir,
      only,
      rerun: values.rerun ?? false,
      quiet: values.quiet ?? false,
      signal,
      sourceName: `runner sweep ${displayPath(process.cwd(), plan.file)}`,
    });
  });
  const failures = outcome.trials.filter(
    (t) => (only === undefined || t.trial.index === only) && (t.state === 'failed' || t.state === 'killed'),
  );
  if (only === undefined) {
    out.write(`\n${leaderboardTable(outcome.trials, plan.metric, process.stdout.columns || 120)}\n`);
  } else {
    const trial = outcome.trials[only]!;
    const value = finalMetric(trial, plan.metric);
    out.write(
      `trial ${only} ${trial.state}${value === undefined ? '' : `: ${plan.metric.name} ${formatMetric(value)}`} (${trial.trial.label})\n`,
    );
  }
  const where = outcome.parentUrl ? `; parent run ${outcome.parentUrl}` : '';
  process.stderr.write(
    `sweep ${outcome.status.toLowerCase()}: ${counts(outcome.trials)}${where}; summary in ${outcome.folder.path('summary.md')}\n`,
  );
  for (const failure of failures) {
    process.stderr.write(
      `  trial ${failure.trial.index} ${failure.state}: ${failure.error ?? 'see its log'} (log: ${failure.logFile ?? 'none'})\n`,
    );
  }
  if (json) {
    printJson({
      status: outcome.status,
      sweep_folder: outcome.folder.dir,
      parent_run_id: outcome.parentRunId ?? null,
      parent_run_url: outcome.parentUrl ?? null,
      metric: plan.metric,
      trials: outcome.trials.map((t) => ({
        index: t.trial.index,
        label: t.trial.label,
        state: t.state,
        run_folder: t.runDir ?? null,
        mlflow_run_id: t.mlflowRunId ?? null,
        metric: finalMetric(t, plan.metric) ?? null,
        metrics: t.metrics ?? {},
        ...(t.error && { error: t.error }),
      })),
    });
  }
  if (outcome.status === 'KILLED') return interruptedExitCode(stop);
  return outcome.status === 'FINISHED' ? 0 : 1;
}

/** The trial to run: --trial, else JOB_COMPLETION_INDEX, else SLURM_ARRAY_TASK_ID; undefined runs them all. */
export function trialIndex(option: string | undefined, plan: SweepPlan, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const [text, source] =
    option !== undefined
      ? [option, '--trial']
      : env.JOB_COMPLETION_INDEX
        ? [env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX']
        : env.SLURM_ARRAY_TASK_ID
          ? [env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID']
          : [undefined, ''];
  if (text === undefined) return undefined;
  const count = plan.trials.length;
  if (!/^\d+$/.test(text.trim()) || Number(text) >= count) {
    throw new UserError(
      `${source} is ${JSON.stringify(text)}, but this sweep has ${count} trial${count === 1 ? '' : 's'}, numbered 0 to ${count - 1}` +
        (source === 'SLURM_ARRAY_TASK_ID' ? ` (submit the array as --array=0-${count - 1}, as runner sweep --emit slurm writes it).` : '.'),
    );
  }
  return Number(text);
}

function dryRun(plan: SweepPlan, runsDir: string): string {
  const sweep = plan.sweep!;
  const tracking = plan.tracking.enabled
    ? `MLflow experiment "${plan.tracking.experiment}" at ${plan.tracking.uri ?? `the local store (${displayPath(process.cwd(), resolve(runsDir, 'mlflow'))})`}`
    : 'nothing (tracking: false)';
  return [
    planTable(plan.trials, process.stdout.columns || 160),
    '',
    `${validTrials(plan.trials)}.`,
    `sweep hash ${plan.hash.slice(0, 12)}; ranked by ${plan.metric.name} (${plan.metric.goal}); max_parallel ${sweep.max_parallel}; fail_fast ${sweep.fail_fast}.`,
    `Tracks to ${tracking}. Run it with: runner sweep ${displayPath(process.cwd(), plan.file)}`,
  ].join('\n');
}

function emit(plan: SweepPlan, kind: string, options: { file: string; runsDir: string; image?: string }): number {
  if (kind !== 'k8s' && kind !== 'slurm') throw new UserError(`--emit takes k8s or slurm, not '${kind}'.`);
  const trackingUri = trackingUriOf(undefined); // the environment's: a config's own tracking.uri reaches the trials by itself
  for (const warning of emitWarnings(plan, { image: options.image, trackingUri }, kind)) process.stderr.write(`warning: ${warning}\n`);
  const emitOptions = {
    configFile: options.file,
    cwd: process.cwd(),
    root: PROJECT_ROOT,
    runsDir: options.runsDir,
    bin: RUNNER_BIN,
    image: options.image,
    trackingUri,
  };
  process.stdout.write(kind === 'k8s' ? emitKubernetes(plan, emitOptions) : emitSlurm(plan, emitOptions));
  return 0;
}

function workerDevice(argv: string[]): Device {
  const device = argv[argv.indexOf('--device') + 1];
  return device === 'cpu' || device === 'gpu' ? device : 'auto';
}

/** Runs `body` with Ctrl-C / SIGTERM as an abort signal: every trial stops after its current step and ends KILLED. */
export function withSweepInterrupts<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withInterrupts((message) => process.stderr.write(message + '\n'), body, 'stopping every trial after its current step');
}
