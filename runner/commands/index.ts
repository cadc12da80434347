/** The sub-commands of `runner`: names and one-line summaries, each command's module loaded only when it runs. */
import type { Command } from './command.ts';

/** One row of the command table. */
export interface CommandEntry {
  /** The word after `runner`. */
  name: string;
  /** One line for `runner --help`. */
  summary: string;
  /** Loads the command's module (and with it what the command needs: TensorFlow, MLflow...). */
  load(): Promise<Command>;
}

/** Every sub-command, in the order `runner --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'Train the experiment a config describes (or print what it would build, with --dry-run).',
    load: async () => (await import('./run.ts')).command,
  },
  {
    name: 'sweep',
    summary: 'Run every trial of a config with a sweep: block, resumable and in parallel (or one trial, or a job array).',
    load: async () => (await import('./sweep.ts')).command,
  },
  {
    name: 'watch',
    summary: 'Run a config (or its sweep), then run it again whenever it or a file it extends changes.',
    load: async () => (await import('./watch.ts')).command,
  },
  {
    name: 'predict',
    summary: "Label new texts or images with a trained run's model (from the run folder alone).",
    load: async () => (await import('./predict.ts')).command,
  },
  {
    name: 'evaluate',
    summary: "Score a trained run's model on its dataset or another one: accuracy, per-class F1, confusion matrix.",
    load: async () => (await import('./evaluate.ts')).command,
  },
  {
    name: 'validate',
    summary: 'Check config files before anything runs (schema, components, files, shapes, param groups); every problem with file:line:col.',
    load: async () => (await import('./validate.ts')).command,
  },
  {
    name: 'components',
    summary: 'List every registered component, its params, defaults and one-line docs.',
    load: async () => (await import('./components.ts')).command,
  },
  {
    name: 'schema',
    summary: 'Write schemas/experiment.schema.json, one schema per component kind and docs/CONFIG.md.',
    load: async () => (await import('./schema.ts')).command,
  },
  {
    name: 'sync',
    summary: 'Upload run folders to MLflow (what a run could not send); running it twice sends nothing twice.',
    load: async () => (await import('./sync.ts')).command,
  },
  {
    name: 'ui',
    summary: 'Start the MLflow UI on the local store (runs/mlflow) and print its URL; Ctrl-C stops it.',
    load: async () => (await import('./ui.ts')).command,
  },
];
