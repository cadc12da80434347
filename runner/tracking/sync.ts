import { randomUUID } from 'node:crypto';
import { trackingExperiment, trackingUri, type TrackingSection } from './location.ts';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.ts';
import { describeOwner, ownerState, readOwner, type ProcessOwner } from '../common/owner.ts';
import { resolveConnection } from './auth.ts';
import { MlflowClient, type RunStatus } from './client.ts';
import { LIMITS, truncateCodePoints } from './limits.ts';
import { acquireLocalServer, defaultStoreDir, type LocalServerLease } from './local-store.ts';
import { readMetricsFile, recordToMetrics } from './metrics-file.ts';
import { flattenParams, LONG_VALUES_FILE, prepareParams, prepareTags } from './params.ts';
import {
  type ArtifactFile,
  artifactFiles,
  ensureRun,
  logParamsAndTags,
  type MetricsReport,
  stampOf,
  uploadMissingMetrics,
} from './remote-run.ts';
import { readRunRecord, type RunRecord, type TrackingTarget, writeRunRecord } from './run-record.ts';
import { standardTags } from './run-tags.ts';
import { TAGS } from './tags.ts';
import { INSTALL_HINT, MlflowNotInstalledError } from './server.ts';

/** Options of syncRunFolder. */
export interface SyncOptions {
  /** Send to this MLflow server (else the run's recorded target, else MLFLOW_TRACKING_URI, else the local store). */
  uri?: string;
  /** Send to the embedded local store (runs/mlflow, or `storeDir`). */
  local?: boolean;
  /** Folder of the local store (default runs/mlflow next to the experiment folders). */
  storeDir?: string;
  /** Environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a sync did. */
export interface SyncReport {
  runDir: string;
  experiment: string;
  runId: string;
  runUrl: string;
  /** Where it went (server URI; for the local store, the store folder). */
  target: string;
  /** True when it went to the local store (whose server was stopped after the sync: see it with `runner ui`). */
  local: boolean;
  status: RunStatus;
  metrics: MetricsReport;
  artifacts: { uploaded: number; unchanged: number };
  /** Unreadable metrics.jsonl lines skipped (e.g. a torn last line after a crash). */
  badMetricLines: number;
  /** Set when the run was left RUNNING: ended KILLED (its process is gone), or left as is (its process is on another host). */
  leftRunning?: LeftRunning;
}

/** A run (or sweep) left RUNNING, and what sync did about it. */
export interface LeftRunning {
  /** closed: its process is gone, so it was ended KILLED; elsewhere: its process is on another host, which cannot be checked, so it stays RUNNING. */
  action: 'closed' | 'elsewhere';
  /** The process that ran it, when recorded. */
  owner?: ProcessOwner;
  /** The end time it was given (its last sign of life), epoch ms. */
  endTime?: number;
}

/** A run or sweep whose process still runs on this host: it is not synced (its own process finishes it). */
export class StillRunningError extends UserError {
  override name = 'StillRunningError';
}

/**
 * Uploads everything of a run folder to MLflow, idempotently: the run (found by id or client key, else created),
 * params and tags, every metrics.jsonl point missing from the histories, changed files as artifacts, status and end
 * time. Running it again sends nothing twice.
 */
export async function syncRunFolder(runDir: string, options: SyncOptions = {}): Promise<SyncReport> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(`${runDir} is not a folder. Pass a run folder, runs/<experiment>/<run-id>.`);
  const record = readRunRecord(dir) ?? recordFromFolder(dir, env);
  const leftRunning = settleRunning(dir, record, `The run in ${dir}`);

  const target = chooseTarget(dir, record.target, options, env);
  record.target = target;
  const { client, lease } = await connectTarget(dir, target, env);
  try {
    const run = await ensureRun(client, record);
    writeRunRecord(dir, record);
    const runId = run.info.run_id;
    log(`run ${runId} in experiment "${record.experiment}"`);
    await logParamsAndTags(client, runId, record);

    const { records, badLines } = readMetricsFile(join(dir, 'metrics.jsonl'));
    const metrics = await uploadMissingMetrics(client, runId, records.flatMap(recordToMetrics));
    log(`metrics: ${metrics.uploaded} points sent, ${metrics.present} already there`);

    const files: ArtifactFile[] = artifactFiles(dir, '', dir);
    for (const extra of record.artifacts) files.push(...artifactFiles(resolve(dir, extra.local), extra.path, dir));
    const there = new Map((await client.listArtifactFiles(runId)).map((f) => [f.path, f.file_size]));
    const artifacts = { uploaded: 0, unchanged: 0 };
    record.uploaded ??= {};
    for (const file of files) {
      const stamp = stampOf(file.local);
      if (!stamp) continue;
      const last = record.uploaded[file.path];
      if (last && last.size === stamp.size && last.mtimeMs === stamp.mtimeMs && there.get(file.path) === stamp.size) {
        artifacts.unchanged++;
        continue;
      }
      await client.uploadArtifact(run.info.artifact_uri, file.local, file.path);
      record.uploaded[file.path] = stamp;
      artifacts.uploaded++;
    }
    log(`artifacts: ${artifacts.uploaded} files sent, ${artifacts.unchanged} unchanged`);

    if (record.error) await client.setTag(runId, TAGS.error, truncateCodePoints(record.error, LIMITS.tagValueLength));
    if (record.status !== 'RUNNING') await client.updateRun(runId, { status: record.status, endTime: record.end_time });
    record.synced = true;
    writeRunRecord(dir, record);
    return {
      runDir: dir,
      experiment: record.experiment,
      runId,
      runUrl: record.run_url ?? client.runUrl(run.info.experiment_id, runId),
      target: target.kind === 'server' ? target.uri : resolve(dir, target.store),
      local: target.kind === 'local',
      status: record.status,
      metrics,
      artifacts,
      badMetricLines: badLines,
      ...(leftRunning ? { leftRunning } : {}),
    };
  } finally {
    // Keep what is known (run id, uploaded files) even when the sync broke off.
    writeRunRecord(dir, record);
    await lease?.release();
  }
}

/** Where a sync goes: --uri, --local, else the recorded target, else MLFLOW_TRACKING_URI, else the local store. */
export function chooseTarget(
  dir: string,
  recorded: TrackingTarget | undefined,
  options: SyncOptions,
  env: NodeJS.ProcessEnv,
): TrackingTarget {
  if (options.uri) return { kind: 'server', uri: resolveConnection(options.uri, env).uri };
  const local = (): TrackingTarget => ({ kind: 'local', store: relative(dir, resolve(options.storeDir ?? defaultStoreDir(dir))) || '.' });
  if (options.local) return local();
  if (recorded) return recorded;
  const uri = trackingUri(undefined, env);
  if (uri) return { kind: 'server', uri: resolveConnection(uri, env).uri };
  return local();
}

/** A client for a target (a local store's server started, or shared, for it: release the lease when done). */
export async function connectTarget(
  dir: string,
  target: TrackingTarget,
  env: NodeJS.ProcessEnv,
): Promise<{ client: MlflowClient; lease?: LocalServerLease }> {
  if (target.kind === 'server') return { client: new MlflowClient(resolveConnection(target.uri, env)) };
  let lease: LocalServerLease;
  try {
    lease = await acquireLocalServer(resolve(dir, target.store));
  } catch (error) {
    if (error instanceof MlflowNotInstalledError) {
      throw new UserError(
        `MLflow is not installed, so the local store cannot be written. Install it with ${INSTALL_HINT}, or pass --uri to send the run to a running MLflow server.`,
      );
    }
    throw error;
  }
  return { client: new MlflowClient(resolveConnection(lease.server.uri, {})), lease };
}

/**
 * What to do with work recorded RUNNING (`status`) in `dir`, given the process recorded as running it (owner.json,
 * else the record's pid and host): alive on this host is a StillRunningError; gone (killed hard, a crash, or no
 * owner recorded) ends it KILLED at its last sign of life; on another host it stays RUNNING.
 */
export function settleRunning(
  dir: string,
  record: { status: RunStatus | undefined; end_time?: number; pid?: number; host?: string },
  what: string,
): LeftRunning | undefined {
  if (record.status !== 'RUNNING') return undefined;
  const owner = readOwner(dir) ?? (record.pid && record.host ? { pid: record.pid, host: record.host } : undefined);
  const state = owner ? ownerState(owner) : 'gone';
  if (state === 'alive') {
    throw new StillRunningError(
      `${what} is still going (${describeOwner(owner!)}); sync it once it has ended. (Its own process sends it to MLflow.)`,
    );
  }
  if (state === 'elsewhere') return { action: 'elsewhere', owner };
  record.status = 'KILLED';
  record.end_time ??= lastSignOfLife(dir);
  return { action: 'closed', owner, endTime: record.end_time };
}

/** The latest modification time (epoch ms) of the files that show a run or sweep was alive. */
export function lastSignOfLife(dir: string): number {
  let latest = 0;
  for (const name of ['metrics.jsonl', 'summary.json', 'tracking.json', 'state.json']) {
    try {
      latest = Math.max(latest, Math.round(statSync(join(dir, name)).mtimeMs));
    } catch {
      // absent
    }
  }
  return latest || Date.now();
}

/**
 * A run record rebuilt from a run folder that has none (tracking was off, or the tracker never ran): experiment =
 * tracking.experiment or the parent folder's name, run name = the folder's name, params from config.yaml.
 */
export function recordFromFolder(dir: string, env: NodeJS.ProcessEnv = process.env): RunRecord {
  const configFile = join(dir, 'config.yaml');
  const hasMetrics = existsSync(join(dir, 'metrics.jsonl'));
  if (!existsSync(configFile) && !hasMetrics) {
    throw new UserError(
      `${dir} does not look like a run folder: it has no config.yaml, metrics.jsonl or tracking.json. Pass a run folder, runs/<experiment>/<run-id>.`,
    );
  }
  let config: Record<string, unknown> = {};
  if (existsSync(configFile)) {
    try {
      const parsed: unknown = parseYaml(readFileSync(configFile, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
    } catch (error) {
      throw new UserError(
        `${configFile} is not valid YAML (${(error as Error).message.split('\n')[0]}), so the run's params cannot be rebuilt.`,
      );
    }
  }
  const tracking = (typeof config.tracking === 'object' && config.tracking) || {};
  const configName = typeof config.name === 'string' ? config.name : basename(dirname(dir));
  const experiment = trackingExperiment(tracking as TrackingSection, basename(dirname(dir)), env);
  const runName = basename(dir);
  const { records } = readMetricsFile(join(dir, 'metrics.jsonl'));
  const firstTimestamp = records.length > 0 ? Number(records[0]!.timestamp) : undefined;
  const startTime = firstTimestamp ?? Math.round(statSync(existsSync(configFile) ? configFile : dir).mtimeMs);
  const userTags = (tracking as { tags?: Record<string, unknown> }).tags ?? {};
  const tags = {
    ...standardTags({ runName, configName, description: typeof config.description === 'string' ? config.description : undefined }, env),
    ...Object.fromEntries(Object.entries(userTags).map(([k, v]) => [k, String(v)])),
  };
  const summary = readSummaryStatus(dir);
  const params = prepareParams(flattenParams(config));
  const preparedTags = prepareTags(tags);
  if (Object.keys(params.long).length + Object.keys(preparedTags.long).length > 0) {
    writeFileSync(join(dir, LONG_VALUES_FILE), `${JSON.stringify({ params: params.long, tags: preparedTags.long }, null, 2)}\n`);
  }
  return {
    version: 1,
    experiment,
    run_name: runName,
    client_key: randomUUID(),
    start_time: startTime,
    end_time: lastSignOfLife(dir),
    status: summary ?? 'RUNNING', // without summary.json the run never ended: settleRunning decides
    params: params.params,
    tags: preparedTags.tags,
    artifacts: [],
    synced: false,
  };
}

/** The status summary.json gives a run that ended (FINISHED when it names none), or undefined without one. */
function readSummaryStatus(dir: string): RunStatus | undefined {
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) return undefined;
  try {
    const status = (JSON.parse(readFileSync(file, 'utf8')) as { status?: unknown }).status;
    return status === 'FAILED' || status === 'KILLED' ? status : 'FINISHED';
  } catch {
    return 'FINISHED';
  }
}

/** True when a folder looks like a run folder (has metrics.jsonl, config.yaml or tracking.json). */
export function looksLikeRunDir(dir: string): boolean {
  return ['metrics.jsonl', 'config.yaml', 'tracking.json'].some((name) => existsSync(join(dir, name)));
}
