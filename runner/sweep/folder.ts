/** The sweep folder <runs-dir>/<name>/sweeps/<hash>/: each trial's resolved config and log, the matrix, the summary. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { ProcessOwner } from '../common/owner.ts';
import type { RunStatus } from '../tracking/client.ts';
import type { TrackingTarget } from '../tracking/run-record.ts';
import type { SweepPlan, PlannedRun } from './plan.ts';
import type { TrialProgress, TrialState } from './state.ts';

/** Files of one sweep on disk. */
export class SweepFolder {
  /** Absolute path of the folder. */
  readonly dir: string;

  constructor(
    runsDir: string,
    readonly plan: SweepPlan,
    /** Folder name under <runs-dir>/<name>/ (default sweeps/<sweep hash>). */
    subdir = join('sweeps', plan.hash.slice(0, 12)),
  ) {
    this.dir = join(runsDir, plan.name, subdir);
  }

  /** Creates the folder and writes the matrix and the planned trials (plan.json, matrix.yaml). */
  prepare(): this {
    mkdirSync(join(this.dir, 'trials'), { recursive: true });
    const { plan } = this;
    writeAtomic(
      this.path('plan.json'),
      JSON.stringify(
        {
          file: plan.file,
          hash: plan.hash,
          experiment: plan.tracking.experiment,
          metric: plan.metric,
          trials: plan.trials.map((t) => ({
            index: t.index,
            label: t.label,
            values: t.values,
            config_hash: t.hash,
            duplicate_of: t.duplicateOf,
          })),
        },
        null,
        2,
      ) + '\n',
    );
    writeAtomic(this.path('matrix.yaml'), matrixYaml(plan));
    return this;
  }

  /** Absolute path of a file in the folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes the resolved config of a trial (what its process runs) and returns its path. */
  writeTrialConfig(trial: PlannedRun): string {
    const file = this.path(`trials/${trialName(trial)}.yaml`);
    const header = `# trial ${trial.index} of the sweep ${this.plan.hash.slice(0, 12)} of ${this.plan.file}: ${trial.label}\n# config hash ${trial.hash}\n`;
    mkdirSync(this.path('trials'), { recursive: true });
    writeAtomic(file, header + stringify(trial.config, { lineWidth: 0 }));
    return file;
  }

  /** Log file of a trial's process. */
  logFile(trial: PlannedRun): string {
    return this.path(`trials/${trialName(trial)}.log`);
  }

  /** Writes state.json: each trial's state, process id, run folder and MLflow run (for people, tests and runner sync). */
  writeState(trials: TrialProgress[], extra: Omit<SweepState, 'updated_at' | 'trials'> = {}): void {
    const state: SweepState = {
      ...extra,
      updated_at: new Date().toISOString(),
      trials: trials.map((p) => ({
        index: p.trial.index,
        label: p.trial.label,
        state: p.state,
        epoch: p.epoch,
        metric: p.metric,
        pid: p.pid,
        run_dir: p.runDir,
        mlflow_run_id: p.mlflowRunId,
        exit: p.exit,
        error: p.error,
      })),
    };
    writeSweepState(this.dir, state);
  }

  /**
   * Writes state.json for a sweep one process owns (`runner sweep` without --trial, a sweep version of `runner
   * watch`): with its status and where its parent run is tracked, so runner sync can close that parent if the
   * process dies (it names itself in owner.json).
   */
  writeOwnedState(trials: TrialProgress[], parentRunId: string | undefined, target: TrackingTarget | undefined, status: RunStatus): void {
    this.writeState(trials, {
      sweep_hash: this.plan.hash,
      parent_run_id: parentRunId ?? null,
      status,
      tracking: target?.kind === 'local' ? { ...target, store: relative(this.dir, target.store) } : target,
    });
  }
}

/** state.json of a sweep folder. */
export interface SweepState {
  sweep_hash?: string;
  parent_run_id?: string | null;
  /** RUNNING while the sweep process runs, then how it ended (whole sweeps only, not --trial K). */
  status?: RunStatus;
  /** The sweep process (whole sweeps only): runner sync closes the parent of a sweep whose process is gone. */
  owner?: ProcessOwner;
  /** Where the parent run is (server URI without credentials, or the local store relative to the sweep folder). */
  tracking?: TrackingTarget;
  updated_at?: string;
  trials: {
    index: number;
    label: string;
    state: TrialState;
    epoch?: number;
    pid?: number;
    run_dir?: string;
    mlflow_run_id?: string;
    [key: string]: unknown;
  }[];
}

/** The state.json of a sweep folder, or undefined when it has none (or it is unreadable). */
export function readSweepState(dir: string): SweepState | undefined {
  return readJson<SweepState>(join(dir, 'state.json'));
}

/** Writes a sweep folder's state.json atomically. */
export function writeSweepState(dir: string, state: SweepState): void {
  writeAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
}

/** The matrix artifact: the sweep block as written, then the trials it plans. */
export function matrixYaml(plan: SweepPlan): string {
  const trials = plan.trials.map((t) => ({
    trial: t.index,
    config_hash: t.hash,
    ...(t.duplicateOf === undefined ? {} : { same_as: t.duplicateOf }),
    values: t.values,
  }));
  return (
    `# Sweep ${plan.hash} of ${plan.file}\n` +
    stringify({ sweep: plan.rawSweep ?? null }, { lineWidth: 0 }) +
    `# ${plan.trials.length} trials, in run order (trial K is what --trial K runs)\n` +
    stringify({ trials }, { lineWidth: 0 })
  );
}

/** Reads a JSON file, or undefined when it is missing or not (yet) valid. */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/** `003-1a2b3c4d`: the trial's index and the start of its config hash (watch mode may run several configs as one index). */
function trialName(trial: PlannedRun): string {
  return `${String(trial.index).padStart(3, '0')}-${trial.hash.slice(0, 8)}`;
}
