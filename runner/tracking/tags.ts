/** Every tag name the runner sets on MLflow runs besides MLflow's own `mlflow.*` tags (and the one MLflow nests runs by). */
export const TAGS = {
  configHash: 'runner.config_hash',
  configName: 'runner.config',
  gitDirty: 'runner.git_dirty',
  backend: 'runner.backend',
  device: 'runner.device',
  version: 'runner.version',
  error: 'runner.error',
  /** When the run was last resumed (runner run --resume). */
  resumedAt: 'runner.resumed_at',
  /** The config hash a run was resumed with when it differs from the one it started with (--force). */
  resumedConfigHash: 'runner.resumed_config_hash',
  /** The tag MLflow nests runs by: a sweep's trials carry their parent run's id. */
  parentRunId: 'mlflow.parentRunId',
  /** A create-run request's idempotency key (a retried request finds the run it made). */
  clientKey: 'runner.client_key',
  /** The run folder's name (runs/<experiment>/<run id>). */
  runFolder: 'runner.run_folder',
  /** A sweep's parent run: the sweep hash (how every process of the sweep finds the same parent). */
  sweepHash: 'runner.sweep_hash',
  /** A sweep's parent run: how many trials the sweep has. */
  sweepTrials: 'runner.sweep_trials',
  /** A sweep's parent run: the metric trials are ranked by, with its goal. */
  sweepMetric: 'runner.sweep_metric',
  /** A sweep's parent run: how the sweep ended (FINISHED, FAILED, KILLED). */
  sweepStatus: 'runner.sweep_status',
  /** A trial's run: its index in the sweep. */
  sweepTrial: 'runner.sweep_trial',
  /** A trial's run: its sweep values as a label. */
  sweepLabel: 'runner.sweep_label',
  /** A sweep's parent run: the best trial's index, label and MLflow run id. */
  bestTrial: 'runner.best_trial',
  bestLabel: 'runner.best_label',
  bestRunId: 'runner.best_run_id',
  /** An evaluation run (runner evaluate): its kind, and the run folder and MLflow run it evaluated. */
  kind: 'runner.kind',
  evaluatedRunFolder: 'runner.evaluated_run_folder',
  evaluatedRunId: 'runner.evaluated_run_id',
} as const;
