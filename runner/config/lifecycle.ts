import type { ConfigIssue } from './issues.ts';
import type { ExperimentConfig } from './schema.ts';

/** The metric that picks the best epoch, and which way is better. */
export interface Monitor {
  metric: string;
  goal: 'minimize' | 'maximize';
}

/** The goal a metric has unless the config says otherwise: losses and errors go down, the rest up. */
export function defaultGoal(metric: string): Monitor['goal'] {
  return /loss|error|time/.test(metric) ? 'minimize' : 'maximize';
}

/** How a config's run selects and stops: the resolved monitor, restore and early-stopping settings, and what is wrong. */
export interface Lifecycle {
  monitor?: Monitor;
  restoreBest: boolean;
  earlyStopping?: { patience: number; minDelta: number };
  /** Errors (severity error) and warnings, located at config keys. */
  issues: ConfigIssue[];
}

/** True when the config names a validation split: a held-out fraction, or the dataset's own split. */
export function hasValidation(config: ExperimentConfig): boolean {
  const data = config.data as { validation?: unknown; dataset: Record<string, unknown> };
  return data.validation !== undefined || data.dataset.validation_split !== undefined || data.dataset.validation !== undefined;
}

/** The epoch metrics a run of this config logs (the names a monitor may use). */
export function epochMetrics(config: ExperimentConfig): string[] {
  const names = ['train_loss', 'train_accuracy'];
  if (hasValidation(config)) names.push('val_loss', 'val_accuracy');
  if (config.train.eval_test_every_epoch) names.push('test_loss', 'test_accuracy');
  return names;
}

/**
 * Resolves `train.monitor` (default val_loss, minimize, with a validation split), `restore_best` (default on
 * with a monitor) and `early_stopping`, checking that the monitored metric exists and that what needs a
 * monitor has one. Needs no data: runs before anything loads.
 */
export function resolveLifecycle(config: ExperimentConfig): Lifecycle {
  const train = config.train;
  const issues: ConfigIssue[] = [];
  const available = epochMetrics(config);
  let monitor: Monitor | undefined;
  if (train.monitor) {
    const { metric } = train.monitor;
    monitor = { metric, goal: train.monitor.goal ?? defaultGoal(metric) };
    if (!available.includes(metric)) {
      const why = /^val_/.test(metric)
        ? " (there is no validation split: set data.validation, e.g. {fraction: 0.1}, or the dataset's own validation split)"
        : /^test_/.test(metric)
          ? ' (test metrics exist per epoch only with train.eval_test_every_epoch: true)'
          : '';
      issues.push({
        path: ['train', 'monitor', 'metric'],
        message: `'${metric}' is not an epoch metric of this run${why}; one of: ${available.join(', ')}.`,
      });
    } else if (/^test_/.test(metric)) {
      issues.push({
        path: ['train', 'monitor', 'metric'],
        severity: 'warning',
        message: `monitoring ${metric} picks the best epoch on the test split, so the test metrics are no longer an unbiased estimate; use a validation split.`,
      });
    }
  } else if (hasValidation(config)) {
    monitor = { metric: 'val_loss', goal: 'minimize' };
  }
  const needsMonitor = (path: string[], what: string) =>
    issues.push({
      path,
      message: `${what} needs a monitored metric: add a validation split (data.validation: {fraction: 0.1}) or set train.monitor.`,
    });
  if (train.restore_best && !monitor) needsMonitor(['train', 'restore_best'], 'restore_best');
  if (train.early_stopping && !monitor) needsMonitor(['train', 'early_stopping'], 'early_stopping');
  const schedule = (config.optimizer as { schedule?: { type?: string } }).schedule;
  if (schedule?.type === 'reduce_on_plateau' && !monitor) needsMonitor(['optimizer', 'schedule', 'type'], 'reduce_on_plateau');
  return {
    monitor,
    restoreBest: train.restore_best ?? monitor !== undefined,
    earlyStopping: train.early_stopping && { patience: train.early_stopping.patience, minDelta: train.early_stopping.min_delta },
    issues,
  };
}

/** The training lifecycle in prose, for docs/CONFIG.md (after the experiment file's keys). */
export const LIFECYCLE_NOTES = `## Training lifecycle: validation, model selection, early stopping, checkpoints, resume

**Validation split.** \`data.validation: {fraction: 0.1}\` holds out a seeded, stratified fraction of the training
split (scikit-learn's \`train_test_split(test_size, random_state, stratify=y)\`, not Keras's \`validation_split\`,
which takes the last, unshuffled fraction); the same seed and data give the same split. A dataset's own split is a
param of the dataset: \`validation_split: val\` for \`text_folder\` and \`image_folder\` (a folder beside
\`train/\` and \`test/\`), \`validation: <file>\` for \`text_table\`. The vocabulary is built from the remaining
training part only; validation batches take the evaluation path (no augmentation).

**Metrics.** Every epoch logs \`train_loss\`, \`train_accuracy\` and, with a validation split, \`val_loss\`,
\`val_accuracy\`. The test split is evaluated once, after training, on the model that is kept: \`test_loss\`,
\`test_accuracy\`, \`best_epoch\` and the kept epoch's metrics as \`best_train_*\`, \`best_val_*\` (so \`best_val_loss\`
is the monitored value) are logged at the last step. \`train.eval_test_every_epoch:
true\` also scores the test split every epoch (the d2l lessons print it; the lesson configs keep it), for curves only:
choosing anything by it tunes on the test set.

**Monitor and the model that is kept.** \`train.monitor: {metric, goal}\` names the epoch metric that picks the best
epoch (default \`val_loss\`, minimize, when there is a validation split; none without one, and then the last epoch is
kept). An epoch is better when it beats the best by more than \`early_stopping.min_delta\` (0 by default) in the goal's
direction: Keras's rule. \`train.restore_best\` (default true with a monitor) puts the best epoch's weights back at the
end, before the test evaluation and \`model/\` are written, whether or not training stopped early (Keras 2 restores
only when EarlyStopping stops the run; the PyTorch fine-tuning tutorial always does). \`summary.json\` has
\`best_epoch\`, \`best_value\`, \`restored_best\` and the last epoch's metrics; sweeps rank trials by
\`best_<monitor>\` (e.g. \`best_val_loss\`) unless \`sweep.metric\` says otherwise, and warn when that is a test metric.

**Early stopping.** \`train.early_stopping: {patience: 3, min_delta: 0}\` stops after \`patience\` epochs without
improvement of the monitor (Keras and Lightning count the same way; Keras's default patience is 0, Lightning's 3).
The run ends FINISHED with a line saying at which epoch and why. No \`baseline\` or \`start_from_epoch\`.

**Checkpoints.** After every epoch the run writes \`checkpoints/last/\` (\`checkpoint.json\` and \`tensors.bin\`:
every model weight, every optimizer slot and update count, each group's current learning rate and the schedule's
counters, the positions of the shuffling, dropout (\`Math.random\`) and augmentation generators, best-so-far and
early-stopping counters, the completed epochs' metrics, the MLflow run id and the config file with its \`--set\`
overrides and hash). A checkpoint is written under a temporary name, synced and renamed into place; the one it
replaces stays as \`last.previous\`. \`checkpoints/best/\` is the best epoch's (hard links to that epoch's files).
Checkpoints are not uploaded to MLflow; \`model/\` is.

**Resume.** \`runner run --resume <run-folder>\` continues a run that was stopped (Ctrl-C, SIGTERM), failed or was
killed hard, in the same run folder and MLflow run, from the end of its last completed epoch: the epoch it was in is
trained again, identically, and metrics it had logged after the checkpoint are replaced, not duplicated (MLflow keeps
the points it already had). On the CPU backend a resumed run ends with exactly the metrics of an uninterrupted one.
Refused (exit 2): a folder that is not a run, a FINISHED run, a run still running, a run with no checkpoint, and a run
whose config file changed since it started (\`--force\` continues with the new config and tags the MLflow run
\`runner.resumed_config_hash\`). A damaged checkpoint is named and the previous one is used. A rerun sweep continues
its interrupted trials from their checkpoints.`;
