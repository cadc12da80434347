/** Runs a planned sweep: finds what already finished, runs the rest as processes, records everything under one parent run. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describeOwner, ownerState, readOwner, writeOwner, type ProcessOwner } from '../common/owner.ts';
import type { RunStatus } from '../tracking/client.ts';
import type { Device } from '../backend/select.ts';
import { gpuModels } from '../backend/cuda.ts';
import { SweepDisplay, counts } from './display.ts';
import { readSweepState, SweepFolder, type SweepState } from './folder.ts';
import type { SweepPlan } from './plan.ts';
import { TrialPool } from './pool.ts';
import { openRecords, stateOfFound, type FoundRun, type SweepRecords, type SweepStatus } from './records.ts';
import { adoptRun, closeSweep, sweepEndStatus } from './session.ts';
import { TERMINAL_STATES, type TrialProgress } from './state.ts';
import { CheckpointStore } from '../train/checkpoint.ts';

/** Options of runSweep. */
export interface SweepRunOptions {
  /** Where run folders (and the sweep folder, and the local MLflow store) go. */
  runsDir: string;
  /** Run only trial K (`--trial K`, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID). */
  only?: number;
  /** Run trials again even when a FINISHED run with their config hash exists. */
  rerun?: boolean;
  /** Only warnings and the final leaderboard. */
  quiet?: boolean;
  /** Aborting stops every trial cleanly (they and the parent end KILLED). */
  signal?: AbortSignal;
  /** Where the live table goes (default stderr). */
  err?: NodeJS.WriteStream;
  /** Start the next trial's process ahead (default true, except with `only`). */
  prewarm?: boolean;
  /** Environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** mlflow.source.name of the parent run. */
  sourceName?: string;
  /** How long a new parent run waits for a twin before keeping the oldest (default 1000 ms). */
  settleMs?: number;
  /** The runner executable for trial processes (default bin/runner.js). */
  bin?: string;
}

/** What a sweep did. */
export interface SweepOutcome {
  status: SweepStatus;
  /** Every trial of the plan (with `only`: the others as MLflow or the run folders know them). */
  trials: TrialProgress[];
  parentRunId?: string;
  parentUrl?: string;
  folder: SweepFolder;
  /** True when fail_fast cancelled trials. */
  failedFast: boolean;
}

/**
 * Runs a sweep: each trial whose config hash has a FINISHED run is skipped (unless `rerun`); the others run as
 * separate `runner run` processes, at most max_parallel at a time, nested under the sweep's parent run. At the end the
 * parent gets the best trial, its metric and a summary table (with `only`: when this was the last trial to end).
 */
export async function runSweep(plan: SweepPlan, options: SweepRunOptions): Promise<SweepOutcome> {
  const env = options.env ?? process.env;
  const folder = new SweepFolder(options.runsDir, plan).prepare();
  const previous = { state: readSweepState(folder.dir), owner: readOwner(folder.dir) };
  if (options.only === undefined) writeOwner(folder.dir); // the sweep's process, for runner sync
  if (options.signal?.aborted) {
    const trials = plan.trials.map((trial): TrialProgress => ({ trial, state: 'cancelled', epochs: trial.config.train.epochs }));
    return { status: 'KILLED', trials, folder, failedFast: false };
  }
  const display = new SweepDisplay(options.err ?? process.stderr, { metric: plan.metric, quiet: options.quiet });
  const log = (line: string) => display.message(line);
  const records = await openRecords(plan, {
    runsDir: options.runsDir,
    folder,
    env,
    log,
    settleMs: options.settleMs,
    sourceName: options.sourceName,
  });
  try {
    const found = await records.lookup(plan.trials.map((t) => t.hash));
    const trials = plan.trials.map((trial): TrialProgress => {
      const progress: TrialProgress = { trial, state: 'pending', epochs: trial.config.train.epochs };
      const run = found.get(trial.hash);
      if (trial.duplicateOf !== undefined) progress.state = 'duplicate';
      else if (run?.status === 'FINISHED' && !options.rerun) adoptRun(progress, run, 'done', plan.metric.name);
      else if (!options.rerun) progress.resumeDir = interruptedRunDir(run, join(options.runsDir, plan.name)); // continue it
      return progress;
    });
    const only = options.only;
    const selected = only === undefined ? trials : trials.filter((t) => t.trial.index === only);
    if (only !== undefined) {
      for (const other of trials) {
        if (other.trial.index !== only && other.state === 'pending')
          adoptRun(other, found.get(other.trial.hash), stateOfFound(found.get(other.trial.hash)), plan.metric.name);
      }
    }
    const toRun = selected.filter((t) => t.state === 'pending');
    if (only === undefined) reportDeadSweep(previous, records, log);
    if (toRun.length > 0) await records.reopen();

    const maxParallel = only === undefined ? (plan.sweep?.max_parallel ?? 1) : 1;
    const header = () =>
      `sweep ${plan.hash.slice(0, 12)} of ${plan.name}: ${counts(trials)}` +
      (records.parentUrl ? `\nparent run: ${records.parentUrl}` : '') +
      `\nsweep folder: ${folder.dir}`;
    display.setHeader(header());
    if (!options.quiet) {
      const skipped = selected.filter((t) => t.state === 'done').length;
      const resumed = selected.filter((t) => t.state === 'pending' && t.resumeDir).length;
      log(
        `sweep ${plan.hash.slice(0, 12)}: ${selected.length === trials.length ? `${trials.length} trials` : `trial ${only} of ${trials.length}`}` +
          (skipped > 0 ? `, ${skipped} already finished (skipped)` : '') +
          (resumed > 0 ? `, ${resumed} interrupted (continued from their checkpoints)` : '') +
          `, ${toRun.length} to run` +
          (toRun.length > 1 ? `, at most ${maxParallel} at a time` : '') +
          (records.parentUrl
            ? `; parent run ${records.parentUrl}`
            : records.kind === 'local'
              ? '; tracking off: finished trials are found in the run folders'
              : ''),
      );
    }
    let sweepStatus: RunStatus = 'RUNNING';
    // Whole sweeps only own their parent: of --trial K processes, the last one to end closes it.
    const saveState = () =>
      only === undefined
        ? folder.writeOwnedState(trials, records.parentRunId, records.target, sweepStatus)
        : folder.writeState(trials, { sweep_hash: plan.hash, parent_run_id: records.parentRunId ?? null });
    const refresh = () => {
      display.setHeader(header());
      display.update(only === undefined ? trials : selected);
      saveState();
    };
    const pool = new TrialPool({
      runsDir: options.runsDir,
      folderFor: () => folder,
      maxParallel,
      failFast: plan.sweep?.fail_fast ?? false,
      prewarm: options.prewarm ?? only === undefined,
      metric: plan.metric.name,
      processEnv: (spawnIndex, device) => trialProcessEnv(maxParallel, spawnIndex, device, env),
      parentRunId: () => records.parentRunId,
      onChange: refresh,
      onTrialEnd: (progress) => records.trialEnded(progress),
      log,
      bin: options.bin,
    });
    const onAbort = () => {
      log('stopping every trial (press Ctrl-C again to exit at once)');
      pool.stopAll();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted) pool.stopAll();
      else pool.add(toRun);
      refresh();
      await pool.drained();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await pool.close();
      refresh();
      display.stop();
    }

    const interrupted = options.signal?.aborted ?? false;
    const status = sweepEndStatus(selected, { interrupted, failedFast: pool.failedFast });
    if (only === undefined) {
      await closeSweep(records, trials, status, log);
      sweepStatus = status;
      saveState();
    } else {
      await closeIfLast(plan, records, trials, only, interrupted, log);
    }
    return { status, trials, parentRunId: records.parentRunId, parentUrl: records.parentUrl, folder, failedFast: pool.failedFast };
  } finally {
    await records.close();
  }
}

/**
 * Says so when the last run of this sweep ended without closing it (its process killed hard, or the machine went
 * down): this run continues it, and closes its parent at the end.
 */
function reportDeadSweep(
  previous: { state: SweepState | undefined; owner: ProcessOwner | undefined },
  records: SweepRecords,
  log: (line: string) => void,
): void {
  const { state, owner } = previous;
  if (state?.status !== 'RUNNING' || !owner || ownerState(owner) !== 'gone') return;
  const parent =
    records.parentRunId && records.parentRunId === state.parent_run_id && records.parentStatusAtStart === 'RUNNING'
      ? ` and left its parent run ${records.parentRunId} RUNNING; this run continues it and closes it at the end`
      : '; this run continues it';
  log(`the last run of this sweep (${describeOwner(owner)}) died before its end${parent}`);
}

/** With --trial K: refresh the other trials from the records; the process that sees every trial ended closes the parent. */
async function closeIfLast(
  plan: SweepPlan,
  records: SweepRecords,
  trials: TrialProgress[],
  only: number,
  interrupted: boolean,
  log: (line: string) => void,
): Promise<void> {
  if (interrupted) return;
  const found = await records.lookup(plan.trials.map((t) => t.hash));
  for (const other of trials) {
    if (other.trial.index === only || other.state === 'duplicate') continue;
    adoptRun(other, found.get(other.trial.hash), stateOfFound(found.get(other.trial.hash)), plan.metric.name);
  }
  const ended = trials.every((t) => TERMINAL_STATES.has(t.state) && t.state !== 'cancelled');
  if (!ended) return;
  await closeSweep(records, trials, sweepEndStatus(trials), log);
}

/**
 * Environment of a trial process. With parallel trials on the native backend, each process would otherwise start
 * one intra-op thread per core (and TensorFlow's GPU allocator would take all GPU memory): so each gets
 * cores / max_parallel intra-op threads, one inter-op thread, GPU memory growth, and with several GPUs and none
 * chosen, the GPUs in turn. Variables already set are left alone.
 */
export function trialProcessEnv(
  maxParallel: number,
  spawnIndex: number,
  device: Device,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (maxParallel <= 1) return out;
  const intra = String(Math.max(1, Math.floor(availableParallelism() / maxParallel)));
  const set = (name: string, value: string) => {
    if (env[name] === undefined || env[name] === '') out[name] = value;
  };
  set('TF_NUM_INTRAOP_THREADS', intra);
  set('TF_NUM_INTEROP_THREADS', '1');
  set('OMP_NUM_THREADS', intra);
  if (device !== 'cpu') {
    set('TF_FORCE_GPU_ALLOW_GROWTH', 'true');
    const gpus = device === 'gpu' || device === 'auto' ? gpuCount() : 0;
    if (gpus > 1) set('CUDA_VISIBLE_DEVICES', String(spawnIndex % gpus));
  }
  return out;
}

let gpus: number | undefined;
function gpuCount(): number {
  try {
    gpus ??= gpuModels().length;
  } catch {
    gpus = 0;
  }
  return gpus;
}

/** The run folder of a trial's interrupted run when it holds a checkpoint to continue from (MLflow knows it by name). */
function interruptedRunDir(run: FoundRun | undefined, experimentDir: string): string | undefined {
  const dir = run?.runDir ?? (run?.runId ? join(experimentDir, run.runId) : undefined);
  return dir && new CheckpointStore(dir).has('last') ? dir : undefined;
}
