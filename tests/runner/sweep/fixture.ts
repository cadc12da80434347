import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { SweepState } from '../../../runner/sweep/folder.ts';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient, type Run } from '../../../runner/tracking/client.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';
import { uniqueName } from '../../helpers/mlflow.ts';

/** Options of sweepFile. */
export interface SweepFileOptions {
  /** Experiment name (also the MLflow experiment). */
  name: string;
  /** MLflow server; false turns tracking off; undefined tracks to the local store under the runs folder. */
  uri: string | false | undefined;
  /** The sweep block, as YAML lines indented by two spaces (without `sweep:`). */
  sweep: string;
  /** The train section (flow mapping). */
  train?: string;
  /** The file name (default sweep.yaml). */
  file?: string;
}

/** An experiment on the sentence fixture (a tiny TextCNN) as YAML; `train` is the train section (flow mapping). */
export function tinyExperimentYaml(options: { name: string; uri: string | false | undefined; train?: string; lr?: string }): string {
  return `name: ${options.name}
seed: 3
data:
  dataset: {type: text_folder, path: ${JSON.stringify(fixture('sentences'))}}
  max_len: 24
  batch_size: 32
model: {type: textcnn, embed_size: 8, kernel_sizes: [2], num_channels: [4]}
optimizer: {type: adam, lr: ${options.lr ?? '0.01'}}
train: ${options.train ?? '{epochs: 1, log_every_steps: 5}'}
${options.uri === undefined ? '' : `tracking: ${options.uri === false ? 'false' : `{uri: ${JSON.stringify(options.uri)}}`}\n`}`;
}

/** Writes a sweep config on the sentence fixture (a tiny TextCNN) into `dir`; returns its path. */
export function sweepFile(dir: string, options: SweepFileOptions): string {
  const file = options.file ?? 'sweep.yaml';
  writeTree(dir, { [file]: `${tinyExperimentYaml(options)}sweep:\n${options.sweep}\n` });
  return join(dir, file);
}

/** A train section that runs until the test stops it: one step per epoch, a metric every step. */
export const UNTIL_STOPPED = '{epochs: 5000, max_steps_per_epoch: 1, log_every_steps: 1}';

/** A sweep file in a fresh folder, under a unique experiment name `prefix-…`, and the runs folder to use. */
export function newSweep(prefix: string, options: Omit<SweepFileOptions, 'name'>): { runsDir: string; name: string; file: string } {
  const dir = tempDir();
  const name = uniqueName(prefix);
  return { runsDir: join(dir, 'runs'), name, file: sweepFile(dir, { ...options, name }) };
}

/** A REST client for the test server. */
export function mlflow(uri: string): MlflowClient {
  return new MlflowClient(resolveConnection(uri, {}));
}

/** Every run of an experiment (none when it does not exist). */
export async function experimentRuns(uri: string, experiment: string): Promise<Run[]> {
  const client = mlflow(uri);
  const found = await client.getExperimentByName(experiment);
  if (!found) return [];
  return client.searchRuns({ experimentIds: [found.experiment_id], viewType: 'ACTIVE_ONLY' });
}

/** A tag of a run. */
export function tagOf(run: Run, key: string): string | undefined {
  return run.data.tags.find((t) => t.key === key)?.value;
}

/** The sweep's parent runs and their children, from MLflow. */
export async function sweepRuns(uri: string, experiment: string): Promise<{ parents: Run[]; children: Run[] }> {
  const runs = await experimentRuns(uri, experiment);
  return {
    parents: runs.filter((r) => tagOf(r, 'runner.sweep_hash') !== undefined),
    children: runs.filter((r) => tagOf(r, 'mlflow.parentRunId') !== undefined),
  };
}

/** state.json of the sweep folder under `runsDir` (the only sweep of `name`). */
export function readState(runsDir: string, name: string, hash: string): SweepState {
  return JSON.parse(readFileSync(join(runsDir, name, 'sweeps', hash.slice(0, 12), 'state.json'), 'utf8')) as SweepState;
}

/** Polls `check` every 200 ms until it returns a value (or throws after `timeoutMs`). */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.unreachable(`timed out waiting for ${what}`);
  throw new Error('unreachable');
}
