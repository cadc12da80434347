/** A sweep whose process died (killed hard, a crash) leaves its parent run RUNNING: runner sync closes it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseTarget, connectTarget, settleRunning, type LeftRunning, type SyncOptions } from '../tracking/sync.ts';
import { readSweepState, writeSweepState, type SweepState } from './folder.ts';
import { TAGS } from '../tracking/tags.ts';

/** True for a sweep folder (<runs-dir>/<name>/sweeps/<hash>/: plan.json and state.json). */
export function looksLikeSweepDir(dir: string): boolean {
  return existsSync(join(dir, 'plan.json')) && existsSync(join(dir, 'state.json'));
}

/** What closeDeadSweep did. */
export interface SweepSyncReport {
  /** The sweep's parent run in MLflow, when it has one. */
  parentRunId?: string;
  /** Set when the sweep was left RUNNING: closed (its process is gone), or left as is (its process is on another host). */
  leftRunning?: LeftRunning;
}

/**
 * Ends a sweep whose process is gone (owner.json of the sweep folder): its parent run KILLED at the sweep's last sign
 * of life, in MLflow and in state.json (trials it was running marked killed, pending ones cancelled). A sweep that
 * ended, or that ran as --trial K, is left alone; one whose process still runs on this host is a StillRunningError.
 */
export async function closeDeadSweep(dir: string, options: SyncOptions = {}): Promise<SweepSyncReport> {
  const env = options.env ?? process.env;
  const state = readSweepState(dir);
  if (!state) return {};
  const parentRunId = state.parent_run_id ?? undefined;
  const sweep = { status: state.status, end_time: undefined as number | undefined };
  const leftRunning = settleRunning(dir, sweep, `The sweep in ${dir}`);
  if (leftRunning?.action !== 'closed') return { parentRunId, leftRunning };
  if (parentRunId && state.tracking) {
    const { client, lease } = await connectTarget(dir, chooseTarget(dir, state.tracking, options, env), env);
    try {
      const parent = await client.getRun(parentRunId);
      if (parent?.info.status === 'RUNNING') {
        await client.setTag(parentRunId, TAGS.sweepStatus, 'KILLED');
        await client.updateRun(parentRunId, { status: 'KILLED', endTime: sweep.end_time });
      }
    } finally {
      await lease?.release();
    }
  }
  const trials: SweepState['trials'] = state.trials.map((t) =>
    t.state === 'running' || t.state === 'starting' ? { ...t, state: 'killed' } : t.state === 'pending' ? { ...t, state: 'cancelled' } : t,
  );
  writeSweepState(dir, { ...state, status: 'KILLED', trials });
  return { parentRunId, leftRunning };
}
