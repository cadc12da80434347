/**
 * What a run tells the process that started it (a sweep or watch, over Node IPC): data, never lines for people.
 * Every message is a plain JSON object with a `type`.
 */

/** The run's folder exists (a resumed run: its own folder again). */
export interface RunFolderEvent {
  type: 'run_folder';
  run_id: string;
  run_dir: string;
}

/** The run is tracked: its MLflow run id. */
export interface TrackedEvent {
  type: 'tracked';
  mlflow_run_id: string;
}

/** One logged record of metrics.jsonl; `epoch_end` is true for the record of an ended epoch. */
export interface MetricsEvent {
  type: 'metrics';
  epoch?: number;
  step?: number;
  epoch_end: boolean;
  metrics: Record<string, number>;
}

/** The run is over (or never started: then no run folder came before): its status, final metrics and error. */
export interface EndEvent {
  type: 'end';
  status: 'FINISHED' | 'FAILED' | 'KILLED' | 'DRY_RUN';
  exit_code: number;
  metrics: Record<string, number>;
  mlflow_run_id?: string;
  error?: { message: string; exit_code: number };
}

/** Any message of a run to its parent process. */
export type RunEvent = RunFolderEvent | TrackedEvent | MetricsEvent | EndEvent;

/** Receives a run's events (a sweep's trial process sends them to the sweep). */
export type RunEventSink = (event: RunEvent) => void;

/** True for an object that is one of the run events (messages from another process are checked before use). */
export function isRunEvent(value: unknown): value is RunEvent {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof value === 'object' && (type === 'run_folder' || type === 'tracked' || type === 'metrics' || type === 'end');
}
