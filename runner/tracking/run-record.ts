import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { RunStatus } from './client.ts';
import type { KeyValue } from './limits.ts';

/** The file in a run folder that ties it to its MLflow run (no credentials in it, ever). */
export const RUN_RECORD_FILE = 'tracking.json';

/** Where a run is tracked: an MLflow server by URI, or the embedded local store (folder relative to the run folder). */
export type TrackingTarget = { kind: 'server'; uri: string } | { kind: 'local'; store: string };

/** Everything needed to (re)create a run in MLflow from its run folder. */
export interface RunRecord {
  version: 1;
  /** Absent only in a record rebuilt by sync before it picks a target. */
  target?: TrackingTarget;
  experiment: string;
  run_name?: string;
  /** Random key tagged on the MLflow run (runner.client_key), so creating it again finds it instead. */
  client_key: string;
  start_time: number;
  end_time?: number;
  status: RunStatus;
  error?: string;
  /** Params and tags as sent (valid keys, values within limits). */
  params: KeyValue[];
  tags: KeyValue[];
  /** Artifacts from outside the run folder (or at another artifact path): local path (relative to the run folder when inside it) → artifact path. */
  artifacts: Array<{ local: string; path: string }>;
  experiment_id?: string;
  run_id?: string;
  run_url?: string;
  /** Artifact path → size and mtime of the local file when it was last uploaded (sync skips unchanged ones). */
  uploaded?: Record<string, { size: number; mtimeMs: number }>;
  /** True once MLflow holds everything of the run. */
  synced: boolean;
  /** Process and host that ran it (to tell a live run from a dead one). */
  pid?: number;
  host?: string;
}

/** The run record of a run folder, or undefined when it has none. */
export function readRunRecord(runDir: string): RunRecord | undefined {
  const file = join(runDir, RUN_RECORD_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as RunRecord;
    if (record.version !== 1 || typeof record.client_key !== 'string') throw new Error('unknown layout');
    return record;
  } catch (error) {
    throw new UserError(
      `${file} is not a valid run record (${(error as Error).message}); move it away and run \`runner sync\` again to rebuild it from the run folder.`,
    );
  }
}

/** Writes the run record atomically (temp file + rename). */
export function writeRunRecord(runDir: string, record: RunRecord): void {
  const file = join(runDir, RUN_RECORD_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temp, file);
}
