import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type CallOptions, type MlflowClient, type Run } from './client.ts';
import { chunkBatch, type Metric } from './limits.ts';
import { OWNER_FILE } from '../common/owner.ts';
import { CHECKPOINTS_DIR } from '../train/checkpoint-dir.ts';
import { RUN_RECORD_FILE, type RunRecord } from './run-record.ts';

/** Local files and artifact paths that never get uploaded from a run folder (bookkeeping of this machine). */
export function isPrivateRunFile(relPath: string): boolean {
  const base = relPath.split('/').pop() ?? relPath;
  return (
    relPath === RUN_RECORD_FILE ||
    relPath === OWNER_FILE ||
    relPath.startsWith(`${CHECKPOINTS_DIR}/`) || // training state for --resume; the selected model is under model/
    base.startsWith(`${RUN_RECORD_FILE}.`) ||
    base.endsWith('.tmp')
  );
}

/**
 * The MLflow run of a run record on this server: the recorded run id if the server has it, else the run tagged
 * with the record's client key, else a new one. Fills in record.experiment_id, run_id and run_url.
 */
export async function ensureRun(client: MlflowClient, record: RunRecord, options?: CallOptions): Promise<Run> {
  // The kind tag makes the MLflow 3 UI open new experiments in its "Model training" view.
  const experiment = await client.getOrCreateExperiment(record.experiment, options, [
    { key: 'mlflow.experimentKind', value: 'custom_model_development' },
  ]);
  let run: Run | undefined;
  if (record.run_id) {
    run = await client.getRun(record.run_id, options);
    if (run && (run.info.experiment_id !== experiment.experiment_id || run.info.lifecycle_stage !== 'active')) run = undefined;
  }
  run ??= await client.findRunByClientKey(experiment.experiment_id, record.client_key, options);
  run ??= await client.createRun(
    {
      experimentId: experiment.experiment_id,
      runName: record.run_name,
      startTime: record.start_time,
      clientKey: record.client_key,
      tags: record.run_name ? [{ key: 'mlflow.runName', value: record.run_name }] : [],
    },
    options,
  );
  record.experiment_id = experiment.experiment_id;
  record.run_id = run.info.run_id;
  record.run_url = client.runUrl(experiment.experiment_id, run.info.run_id);
  return run;
}

/** Sends a record's params and tags (safe to repeat: params are write-once with the same value, tags last-write-wins). */
export async function logParamsAndTags(client: MlflowClient, runId: string, record: RunRecord, options?: CallOptions): Promise<void> {
  await client.logBatch(runId, { params: record.params, tags: record.tags }, options);
}

/** A file to upload: local path and artifact path. */
export interface ArtifactFile {
  local: string;
  path: string;
}

/** Every file under `localPath` (or the file itself) with its artifact path under `artifactPath`, private run files left out. */
export function artifactFiles(localPath: string, artifactPath: string, runDir?: string): ArtifactFile[] {
  const out: ArtifactFile[] = [];
  const walk = (local: string, path: string) => {
    let stat;
    try {
      stat = statSync(local);
    } catch {
      return; // gone meanwhile
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(local).sort()) walk(join(local, name), path ? `${path}/${artifactName(name)}` : artifactName(name));
    } else if (stat.isFile()) {
      const relToRun = runDir ? relative(runDir, local).split(sep).join('/') : undefined;
      if (relToRun !== undefined && isPrivateRunFile(relToRun)) return;
      out.push({ local, path });
    }
  };
  walk(localPath, artifactPath);
  return out;
}

/** A file name as MLflow takes it in an artifact path ('#' and '\\' are refused there). */
export function artifactName(name: string): string {
  return name.replace(/[#\\]/g, '_');
}

/** Size and mtime of an uploaded file, kept in the run record so sync can skip unchanged files. */
export interface UploadedStamp {
  size: number;
  mtimeMs: number;
}

/** A stamp of a local file now. */
export function stampOf(local: string): UploadedStamp | undefined {
  try {
    const s = statSync(local);
    return { size: s.size, mtimeMs: Math.round(s.mtimeMs) };
  } catch {
    return undefined;
  }
}

/** Counts of a metric reconciliation. */
export interface MetricsReport {
  /** Points already in MLflow. */
  present: number;
  /** Points sent now. */
  uploaded: number;
}

/**
 * Makes the run's metric histories hold every point of `metrics`: reads each key's history back and sends only the
 * points that are missing (as a multiset: a point present once is not sent again). Identical points (same key,
 * step, timestamp and value) count once, as MLflow stores them once.
 */
export async function uploadMissingMetrics(
  client: MlflowClient,
  runId: string,
  metrics: Metric[],
  options?: CallOptions,
): Promise<MetricsReport> {
  const byKey = new Map<string, Map<string, Metric>>();
  for (const m of metrics) {
    let points = byKey.get(m.key);
    if (!points) byKey.set(m.key, (points = new Map()));
    points.set(pointId(m), m);
  }
  const missing: Metric[] = [];
  let present = 0;
  for (const [key, points] of byKey) {
    const history = await client.getMetricHistory(runId, key, options);
    const there = new Set(history.map(pointId));
    for (const [id, m] of points) {
      if (there.has(id)) present++;
      else missing.push(m);
    }
  }
  for (const chunk of chunkBatch({ metrics: missing })) await client.logBatchChunk(runId, chunk, options);
  return { present, uploaded: missing.length };
}

/**
 * Identity of a metric point for reconciliation: step, timestamp and value, with every non-finite value (NaN, ±Inf,
 * ±DBL_MAX as MLflow stores infinities) one and the same, because a metrics.jsonl written with plain JSON.stringify
 * has `null` for all of them and one record never holds two values for a key.
 */
export function pointId(m: Metric): string {
  const v = Number.isNaN(m.value) || Math.abs(m.value) >= Number.MAX_VALUE ? 'non-finite' : String(m.value);
  return `${m.step}|${m.timestamp}|${v}`;
}
