/**
 * Where a run is tracked, decided in one place for the tracker, sweeps, sync and --emit: the MLflow server
 * (`tracking.uri`, else MLFLOW_TRACKING_URI, else none: the local store under <runs-dir>/mlflow) and the
 * experiment (`tracking.experiment`, else MLFLOW_EXPERIMENT_NAME, else a fallback: the config's name).
 */

/** A config's `tracking:` section as far as the location goes (false: not tracked). */
export type TrackingSection = false | { uri?: string; experiment?: string } | undefined;

/** Where a config's runs go: not tracked, or MLflow at `uri` (undefined: the local store) in `experiment`. */
export interface TrackingLocation {
  enabled: boolean;
  uri?: string;
  experiment: string;
}

/** The MLflow server a run reports to, or undefined for the local store. */
export function trackingUri(section: TrackingSection, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (section && section.uri) || env.MLFLOW_TRACKING_URI || undefined;
}

/** The MLflow experiment of a run; `fallback` when neither the config nor the environment names one. */
export function trackingExperiment(section: TrackingSection, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return (section && section.experiment) || env.MLFLOW_EXPERIMENT_NAME || fallback;
}

/** Where the runs of a config (its `name` and `tracking:` section) are tracked. */
export function trackingLocation(config: { name: string; tracking?: unknown }, env: NodeJS.ProcessEnv = process.env): TrackingLocation {
  const section = config.tracking as TrackingSection;
  if (section === false) return { enabled: false, experiment: config.name };
  return { enabled: true, uri: trackingUri(section, env), experiment: trackingExperiment(section, config.name, env) };
}
