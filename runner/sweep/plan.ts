/** A sweep file turned into validated trials: one resolved config (and config hash) per trial, checked before any runs. */
import { trackingLocation, type TrackingLocation } from '../tracking/location.ts';
import { dirname } from 'node:path';
import type { Diagnostic } from '../config/diagnostics.ts';
import { ConfigDiagnosticsError } from '../config/diagnostics.ts';
import { loadConfig, type ConfigOverride } from '../config/load.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { parseDottedPath } from '../config/tree.ts';
import { UserError } from '../errors.ts';
import { configHash } from '../common/provenance.ts';
import { resolveLifecycle } from '../config/lifecycle.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { checkExperiment } from '../run/check.ts';
import { SweepDefinitionError, type YamlPath } from './errors.ts';
import { splitPath } from '../common/dotted-path.ts';
import { readRawConfig, type RawConfig } from './source.ts';
import type { MetricDefinition } from '../config/sweep-schema.ts';
import { applyTrial, planTrialsPlanned, trialHash, trialLabel, type Trial } from './trials.ts';
import { parseSweep, type ResolvedSweep } from './validate.ts';

/** A trial's resolved config: the experiment config without its sweep block. */
export type TrialConfig = Omit<ExperimentConfig, 'sweep'>;

/** One trial, resolved and validated. */
export interface PlannedRun {
  /** Position in the sweep, from 0 (the K of `--trial K`, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID). */
  index: number;
  /** The values the sweep sets (dotted path → value); empty for a config without a sweep. */
  values: Trial;
  /** `optimizer.lr=0.01 model.kernel_sizes=[3,4,5]`. */
  label: string;
  /** The resolved config the trial runs (defaults applied, paths absolute, no sweep block). */
  config: TrialConfig;
  /** Config hash of `config` (what `runner run` tags its MLflow run with as runner.config_hash). */
  hash: string;
  /** Index of an earlier trial with the same resolved config; such a trial is not run twice. */
  duplicateOf?: number;
}

/** Where a sweep's runs are tracked (`enabled` false for `tracking: false`: no MLflow parent, resume reads the run folders). */
export type PlanTracking = TrackingLocation;

/** Everything needed to run, resume, distribute or watch a sweep (or a single config, as a plan of one trial). */
export interface SweepPlan {
  /** Absolute path of the config file. */
  file: string;
  /** The file and every file it extends. */
  files: string[];
  /** The experiment's `name` (run folders go to <runs-dir>/<name>/). */
  name: string;
  /** The sweep block with defaults; undefined for a config without one. */
  sweep?: ResolvedSweep;
  /** The sweep block as written (for the matrix artifact). */
  rawSweep?: unknown;
  /** The ranking metric (default: the trials' monitored metric at their kept epoch, e.g. best_val_loss; see rankingMetric). */
  metric: MetricDefinition;
  /** Things to tell the user before running (e.g. ranking on the test split). */
  warnings: string[];
  trials: PlannedRun[];
  /** Identity of the sweep: sha256 of the experiment, the metric and every trial's config hash, in order. */
  hash: string;
  tracking: PlanTracking;
}

/** The metric that ranks trials when the sweep names none and the trials have no validation split. */
export const DEFAULT_METRIC: MetricDefinition = { name: 'test_accuracy', goal: 'maximize' };

/**
 * The metric that ranks trials: sweep.metric, else the trials' monitored metric at their kept epoch
 * (`best_val_loss` with a validation split), else test_accuracy; with warnings when that tunes on the test split.
 */
export function rankingMetric(chosen: MetricDefinition | undefined, config: TrialConfig): { metric: MetricDefinition; warnings: string[] } {
  const { monitor } = resolveLifecycle(config as ExperimentConfig);
  const metric = chosen ?? (monitor ? { name: `best_${monitor.metric}`, goal: monitor.goal } : DEFAULT_METRIC);
  const warnings: string[] = [];
  if (/^(best_)?test_/.test(metric.name)) {
    warnings.push(
      chosen
        ? `sweep.metric ${metric.name} ranks the trials on the test split: that tunes hyperparameters on the test set, and the best trial's test score is no longer an unbiased estimate. Rank by a validation metric (e.g. best_val_loss, best_val_accuracy) and add data.validation.`
        : `the trials have no validation split, so they are ranked by ${metric.name}, on the test split: that tunes on the test set. Add data.validation (e.g. {fraction: 0.1}) to rank by val_loss instead.`,
    );
  }
  return { metric, warnings };
}

/** Options of planSweep. */
export interface PlanOptions {
  /** `--set` overrides: they change the base config; trial values are applied after them. */
  overrides?: ConfigOverride[];
  /** Refuse a config without a sweep block (runner sweep) instead of planning it as one trial (runner watch). */
  requireSweep?: boolean;
  /** Environment for MLFLOW_TRACKING_URI / MLFLOW_EXPERIMENT_NAME (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** True when the config file (or a file it extends) has a `sweep:` block. Problems with the files themselves are thrown. */
export function hasSweep(file: string, overrides: ConfigOverride[] = []): boolean {
  return readRawConfig(file, overrides).data.sweep !== undefined;
}

/**
 * Plans a sweep: checks the sweep block, expands its trials, and resolves and validates every trial's config by
 * loading the file with the trial's values as overrides (shallow paths first), so a problem points at the sweep value
 * that caused it or at the config line. Every problem of every trial is thrown at once (ConfigDiagnosticsError, exit 2).
 */
export function planSweep(file: string, options: PlanOptions = {}): SweepPlan {
  return planTrials(file, options, []);
}

/** A planned trial's config with what locates its issues: in the files, or at the sweep value that caused them. */
interface LocatableTrial {
  index: number;
  locate(issues: ConfigIssue[]): Diagnostic[];
}

/**
 * planSweep, then the static check (runner/run/check.ts: everything knowable before data loads) on every distinct
 * trial. Every problem of every trial is thrown at once, located like planSweep's; the warnings are returned, located.
 */
export async function planSweepChecked(file: string, options: PlanOptions = {}): Promise<{ plan: SweepPlan; warnings: Diagnostic[] }> {
  const locatable: LocatableTrial[] = [];
  const plan = planTrials(file, options, locatable);
  const errors: { diagnostic: Diagnostic; trial: number }[] = [];
  const warnings: { diagnostic: Diagnostic; trial: number }[] = [];
  for (const trial of plan.trials) {
    if (trial.duplicateOf !== undefined) continue;
    const issues = await checkExperiment(trial.config, dirname(plan.file));
    const { locate } = locatable.find((t) => t.index === trial.index)!;
    for (const diagnostic of locate(issues))
      (diagnostic.severity === 'warning' ? warnings : errors).push({ diagnostic, trial: trial.index });
  }
  const inTrials = (problems: typeof errors) =>
    plan.sweep ? groupByTrial(problems, plan.trials.length) : problems.map((p) => p.diagnostic);
  if (errors.length > 0) throw new ConfigDiagnosticsError(inTrials(errors));
  return { plan, warnings: inTrials(warnings) };
}

function planTrials(file: string, options: PlanOptions, locatable: LocatableTrial[]): SweepPlan {
  const overrides = options.overrides ?? [];
  const env = options.env ?? process.env;
  const raw = readRawConfig(file, overrides);
  const rawSweep = raw.data.sweep;
  if (rawSweep === undefined) {
    if (options.requireSweep) {
      throw new UserError(
        `${raw.file} has no sweep: block, so there is nothing to sweep. Add one (see docs/SWEEPS.md), or train it once with runner run ${file}.`,
      );
    }
    const loaded = loadConfig(file, overrides);
    locatable.push({ index: 0, locate: loaded.locate });
    const { sweep: _none, ...config } = loaded.config;
    const trials: PlannedRun[] = [{ index: 0, values: {}, label: '(the config as is)', config, hash: configHash(loaded.config) }];
    return finish({ file: raw.file, files: loaded.files, name: config.name, ...rankingMetric(undefined, config), trials }, env);
  }

  let sweep: ResolvedSweep;
  let planned: ReturnType<typeof planTrialsPlanned>;
  try {
    sweep = parseSweep(rawSweep, ['sweep']);
    planned = planTrialsPlanned(sweep, ['sweep']);
  } catch (error) {
    if (error instanceof SweepDefinitionError) throw new ConfigDiagnosticsError(raw.locate(error.issues));
    throw error;
  }

  const problems: { diagnostic: Diagnostic; trial: number }[] = [];
  const trials: PlannedRun[] = [];
  const seen = new Map<string, number>();
  planned.forEach((trial, index) => {
    const label = trialLabel(trial.values);
    try {
      applyTrial(raw.data, trial.values, trial.sources); // list indices and scalars on the way, located at the sweep value
    } catch (error) {
      if (!(error instanceof SweepDefinitionError)) throw error;
      for (const diagnostic of raw.locate(error.issues)) problems.push({ diagnostic, trial: index });
      return;
    }
    const trialOverrides = Object.entries(trial.values)
      .sort(([a], [b]) => splitPath(a).length - splitPath(b).length)
      .map(([path, value]): ConfigOverride => ({
        path: parseDottedPath(path),
        value,
        origin: origin(index, path, trial.sources[path], raw.where),
      }));
    let config: ExperimentConfig;
    try {
      const loaded = loadConfig(file, [...overrides, ...trialOverrides]);
      config = loaded.config;
      locatable.push({
        index,
        locate: (issues) => loaded.locate(issues).map((d) => atSweepValue(d, trialOverrides, trial.sources, raw)),
      });
    } catch (error) {
      if (!(error instanceof ConfigDiagnosticsError)) throw error;
      for (const diagnostic of error.diagnostics)
        problems.push({ diagnostic: atSweepValue(diagnostic, trialOverrides, trial.sources, raw), trial: index });
      return;
    }
    const { sweep: _sweep, ...resolved } = config;
    const hash = configHash(config);
    const duplicateOf = seen.get(hash);
    if (duplicateOf === undefined) seen.set(hash, index);
    trials.push({ index, values: trial.values, label, config: resolved, hash, ...(duplicateOf === undefined ? {} : { duplicateOf }) });
  });
  if (problems.length > 0) throw new ConfigDiagnosticsError(groupByTrial(problems, planned.length));

  const plan = finish(
    {
      file: raw.file,
      files: raw.files,
      name: trials[0]!.config.name,
      sweep,
      rawSweep,
      ...rankingMetric(sweep.metric, trials[0]!.config),
      trials,
    },
    env,
  );
  for (const trial of plan.trials) {
    const tracking = trackingLocation(trial.config, env);
    if (
      tracking.enabled !== plan.tracking.enabled ||
      tracking.uri !== plan.tracking.uri ||
      tracking.experiment !== plan.tracking.experiment
    ) {
      throw new UserError(
        `Trial ${trial.index} (${trial.label}) tracks to ${describeTracking(tracking)}, but trial 0 tracks to ${describeTracking(plan.tracking)}. ` +
          'All trials of a sweep must use the same tracking server and experiment (and the same name), so they can be found under one parent run; do not sweep name or tracking.',
      );
    }
    if (trial.config.name !== plan.name) {
      throw new UserError(
        `Trial ${trial.index} (${trial.label}) changes the experiment name to ${trial.config.name}; all trials of a sweep must share the name ${plan.name}.`,
      );
    }
  }
  return plan;
}

function finish(partial: Omit<SweepPlan, 'hash' | 'tracking'>, env: NodeJS.ProcessEnv): SweepPlan {
  const tracking = trackingLocation(partial.trials[0]!.config, env);
  const hash = trialHash({ experiment: tracking.experiment, metric: partial.metric, trials: partial.trials.map((t) => t.hash) });
  return { ...partial, tracking, hash };
}

function describeTracking(tracking: PlanTracking): string {
  if (!tracking.enabled) return 'nothing (tracking: false)';
  return `experiment "${tracking.experiment}" at ${tracking.uri ?? 'the local store'}`;
}

/** A diagnostic placed at a trial override: moved to the sweep value that set it (file:line:col and code frame). */
function atSweepValue(
  diagnostic: Diagnostic,
  trialOverrides: ConfigOverride[],
  sources: Record<string, YamlPath>,
  raw: RawConfig,
): Diagnostic {
  const override = trialOverrides.find((o) => o.origin === diagnostic.origin);
  const source = override ? sources[override.path.join('.')] : undefined;
  if (!source) return diagnostic;
  const [located] = raw.locate([{ path: source, message: '' }]);
  if (!located?.position) return diagnostic;
  const { origin: _origin, ...rest } = diagnostic;
  return { ...rest, position: located.position, lines: located.lines };
}

function origin(index: number, path: string, source: YamlPath | undefined, where: (path: YamlPath) => string): string {
  return `sweep trial ${index} (${path}, set at ${source ? where(source) : 'the sweep block'})`;
}

/** One diagnostic per problem, with the trials that have it named once (a base config problem is in every trial). */
function groupByTrial(problems: { diagnostic: Diagnostic; trial: number }[], total: number): Diagnostic[] {
  const groups = new Map<string, { diagnostic: Diagnostic; trials: number[] }>();
  for (const { diagnostic, trial } of problems) {
    const where = diagnostic.position
      ? `${diagnostic.position.file}:${diagnostic.position.line}:${diagnostic.position.col}`
      : (diagnostic.origin ?? '');
    const key = JSON.stringify([where, diagnostic.path, diagnostic.message]);
    const group = groups.get(key);
    if (group) {
      if (!group.trials.includes(trial)) group.trials.push(trial);
    } else groups.set(key, { diagnostic, trials: [trial] });
  }
  return [...groups.values()].map(({ diagnostic, trials }) => {
    const which =
      trials.length === total && total > 1 ? `every trial (${total})` : `trial${trials.length === 1 ? '' : 's'} ${trials.join(', ')}`;
    return { ...diagnostic, message: `${diagnostic.message} (in ${which} of the sweep)` };
  });
}
