import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.ts';
import { loadConfigWithPlugins } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import { CheckpointError, CheckpointStore } from '../train/checkpoint.ts';
import type { TrainingState } from '../train/loop.ts';
import { describeOwner, ownerState, readOwner } from '../common/owner.ts';
import { configHash } from '../common/provenance.ts';
import type { ResumePoint, RunCheckpointInfo } from './run-experiment.ts';

/** A run to continue: its config (as it was started, or the edited one with `force`) and where it stopped. */
export interface ResumePlan {
  loaded: LoadedConfig;
  point: ResumePoint;
  /** The folder that holds the run's experiment folders (the local MLflow store is its `mlflow/`). */
  runsDir: string;
}

/**
 * Checks that `runDir` is a run that can be continued (a run folder, not FINISHED, not running, with a readable
 * checkpoint) and loads its config: the file it was started from with the same `--set` overrides, which must still
 * resolve to the same config unless `force`; the run's own config.yaml when that file is gone.
 */
export async function planResume(runDir: string, options: { force: boolean; warn(message: string): void }): Promise<ResumePlan> {
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`runner run --resume: ${runDir} is not a folder.`);
  if (!existsSync(join(dir, 'config.yaml'))) {
    throw new UserError(
      `runner run --resume: ${runDir} is not a run folder (it has no config.yaml). Pass the folder of one run, runs/<experiment>/<run-id>.`,
    );
  }
  const status = summaryStatus(dir);
  if (status === 'FINISHED') {
    throw new UserError(
      `runner run --resume: the run in ${runDir} FINISHED; there is nothing to continue. To train longer, start a new run ` +
        `(runner run <config> --set train.epochs=N).`,
    );
  }
  const owner = readOwner(dir);
  if (owner && ownerState(owner) === 'alive') {
    throw new UserError(`runner run --resume: the run in ${runDir} is still running (${describeOwner(owner)}); stop it first.`);
  }
  const store = new CheckpointStore(dir);
  if (!store.has('last')) {
    throw new UserError(
      `runner run --resume: the run in ${runDir} has no checkpoint: it stopped before its first epoch ended. ` +
        `Start it again with runner run ${join(runDir, 'config.yaml')}.`,
    );
  }
  let checkpoint;
  try {
    checkpoint = store.load<TrainingState>('last', options.warn);
  } catch (error) {
    if (error instanceof CheckpointError) {
      throw new UserError(
        `runner run --resume: ${error.message}, and no earlier checkpoint of this run is readable; it cannot be resumed.`,
      );
    }
    throw error;
  }
  const info = checkpoint.state.extra as RunCheckpointInfo | undefined;
  if (!info?.config)
    throw new UserError(`runner run --resume: ${checkpoint.dir} does not say which config the run used; it cannot be resumed.`);
  let loaded: LoadedConfig;
  if (existsSync(info.config.file)) {
    loaded = await loadConfigWithPlugins(info.config.file, info.config.overrides);
  } else {
    options.warn(`the run's config file ${info.config.file} is gone; resuming with the run's own ${join(runDir, 'config.yaml')}`);
    loaded = await loadConfigWithPlugins(join(dir, 'config.yaml'));
  }
  const hash = configHash(loaded.config);
  if (hash !== info.config.hash) {
    if (!options.force) {
      throw new UserError(
        `runner run --resume: ${loaded.file} has changed since the run started (config hash ${hash}, the run's ${info.config.hash}), ` +
          `so the run would not continue the experiment it began. Undo the edit, or pass --force to continue with the new config ` +
          `(the run records it: tag runner.resumed_config_hash).`,
      );
    }
    options.warn(`continuing with the changed config ${loaded.file} (--force; hash ${hash}, the run started with ${info.config.hash})`);
  }
  return { loaded, point: { runDir: dir, checkpoint }, runsDir: resolve(dir, '..', '..') };
}

/** The status summary.json records, or undefined when the run never wrote one (killed hard, or still running). */
export function summaryStatus(dir: string): string | undefined {
  return readSummary(dir).status;
}

/** What a run's summary.json says of its end (empty when the run never wrote one, or it does not parse). */
export function readSummary(dir: string): { status?: string; mlflow_run_id?: string | null } {
  try {
    return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { status?: string; mlflow_run_id?: string | null };
  } catch {
    return {};
  }
}
