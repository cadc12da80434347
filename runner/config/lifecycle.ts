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
