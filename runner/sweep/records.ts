/**
 * Where a sweep finds what already ran and records what it did: MLflow (one parent run per sweep hash, trials nested
 * under it) or, with tracking off, the run folders on disk.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { resolveConnection } from '../tracking/auth.ts';
import { MlflowClient, MlflowError, type Run, type RunStatus } from '../tracking/client.ts';
import { LIMITS, truncateCodePoints, type KeyValue, type Metric } from '../tracking/limits.ts';
import { acquireLocalServer, type LocalServerLease } from '../tracking/local-store.ts';
import { sleep } from '../tracking/retry.ts';
import type { TrackingTarget } from '../tracking/run-record.ts';
import { standardTags } from '../tracking/run-tags.ts';
import { TAGS } from '../tracking/tags.ts';
import { MlflowNotInstalledError } from '../tracking/server.ts';
import { readJson, type SweepFolder } from './folder.ts';
import type { SweepPlan } from './plan.ts';
import { bestTrial, finalMetric, summaryMarkdown, succeeded, trialSeconds, type TrialProgress, type TrialState } from './state.ts';

/** A run found for a trial's config hash. */
export interface FoundRun {
  status: RunStatus;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  mlflowRunId?: string;
  parentRunId?: string;
  runDir?: string;
  runId?: string;
  startTime?: number;
  endTime?: number;
}

/** Final status of a sweep. */
export type SweepStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** The records of one sweep. */
export interface SweepRecords {
  /** 'mlflow' or 'local' (run folders only). */
  readonly kind: 'mlflow' | 'local';
  /** The parent run, when tracked in MLflow. */
  readonly parentRunId: string | undefined;
  /** Its address in the MLflow UI. */
  readonly parentUrl: string | undefined;
  /** Where the parent run is: a server, or the local store (absolute folder); undefined without MLflow. */
  readonly target: TrackingTarget | undefined;
  /** The parent's status in MLflow when the sweep started (RUNNING: another process runs it, or one left it so). */
  readonly parentStatusAtStart: RunStatus | undefined;
  /** The best run known for each of these config hashes: FINISHED first (any in the experiment), else the latest of this sweep. */
  lookup(hashes: Iterable<string>): Promise<Map<string, FoundRun>>;
  /** After a trial's process ended: names and tags its run, and closes it (KILLED/FAILED) if the process could not. */
  trialEnded(progress: TrialProgress): Promise<void>;
  /** Writes the summary (sweep folder, and the parent run: artifact, best trial and metric), and sets the parent's status. */
  finalize(trials: TrialProgress[], status: SweepStatus): Promise<void>;
  /** Marks the parent RUNNING again (a resumed sweep). */
  reopen(): Promise<void>;
  /** Releases the local MLflow server, if one was started. */
  close(): Promise<void>;
}

/** Options of openRecords. */
export interface RecordsOptions {
  runsDir: string;
  folder: SweepFolder;
  /** MLFLOW_* variables and credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Wait after creating a parent before looking for a twin created at the same moment (default 1000 ms). */
  settleMs?: number;
  /** The command line, for mlflow.source.name. */
  sourceName?: string;
}

/** The records of a sweep: MLflow when the plan tracks (a parent found by sweep hash, or created once), else run folders. */
export async function openRecords(plan: SweepPlan, options: RecordsOptions): Promise<SweepRecords> {
  if (!plan.tracking.enabled) return new LocalRecords(plan, options);
  let lease: LocalServerLease | undefined;
  let uri = plan.tracking.uri;
  let env = options.env ?? process.env;
  if (!uri) {
    try {
      lease = await acquireLocalServer(join(options.runsDir, 'mlflow'));
    } catch (error) {
      const why =
        error instanceof MlflowNotInstalledError
          ? 'MLflow is not installed'
          : `the local MLflow server did not start (${(error as Error).message.split('\n')[0]})`;
      options.log(`${why}: the sweep has no parent run, and finished trials are found in the run folders`);
      return new LocalRecords(plan, options);
    }
    uri = lease.server.uri;
    env = {}; // a local server takes no credentials
  }
  // Trials join this server for the local store (it is registered there) instead of each starting one.
  try {
    const client = new MlflowClient(resolveConnection(uri, env));
    const records = new MlflowRecords(plan, options, client, lease);
    await records.open();
    return records;
  } catch (error) {
    await lease?.release();
    if (error instanceof MlflowError && error.retryable) {
      options.log(`${error.message}: the sweep goes on without a parent run; finished trials are found in the run folders`);
      return new LocalRecords(plan, options);
    }
    throw error;
  }
}

class MlflowRecords implements SweepRecords {
  readonly kind = 'mlflow';
  #experimentId = '';
  #parent: Run | undefined;
  parentStatusAtStart: RunStatus | undefined;

  constructor(
    readonly plan: SweepPlan,
    readonly options: RecordsOptions,
    readonly client: MlflowClient,
    readonly lease: LocalServerLease | undefined,
  ) {}

  get parentRunId(): string | undefined {
    return this.#parent?.info.run_id;
  }

  get parentUrl(): string | undefined {
    return this.#parent ? this.client.runUrl(this.#experimentId, this.#parent.info.run_id) : undefined;
  }

  get target(): TrackingTarget {
    return this.lease ? { kind: 'local', store: join(this.options.runsDir, 'mlflow') } : { kind: 'server', uri: this.client.uri };
  }

  async open(): Promise<void> {
    const experiment = await this.client.getOrCreateExperiment(this.plan.tracking.experiment, undefined, [
      { key: 'mlflow.experimentKind', value: 'custom_model_development' }, // as runs create it
    ]);
    this.#experimentId = experiment.experiment_id;
    this.#parent = await this.#findOrCreateParent();
  }

  /**
   * The parent run of this sweep hash. Idempotent across processes racing against one server (--trial K on many
   * machines): search; if none, create (with a client key derived from the hash, so a retried create finds its own
   * run), wait a moment, search again and keep the oldest; a process whose run lost deletes it.
   */
  async #findOrCreateParent(): Promise<Run> {
    const existing = await this.#parents();
    this.parentStatusAtStart = existing[0]?.info.status;
    if (existing[0]) return existing[0];
    const { plan } = this;
    const tags: KeyValue[] = Object.entries({
      ...standardTags({
        runName: `${plan.name} sweep ${plan.hash.slice(0, 8)} (${plan.trials.length} trials)`,
        description: parentDescription(plan),
        configName: plan.name,
        sourceName: this.options.sourceName ?? `runner sweep ${relative(process.cwd(), plan.file) || plan.file}`,
      }),
      [TAGS.sweepHash]: plan.hash,
      [TAGS.sweepTrials]: String(plan.trials.length),
      [TAGS.sweepMetric]: `${plan.metric.name} (${plan.metric.goal})`,
    }).map(([key, value]) => ({ key, value: truncateCodePoints(value, LIMITS.tagValueLength) }));
    const mine = await this.client.createRun({
      experimentId: this.#experimentId,
      runName: tags.find((t) => t.key === 'mlflow.runName')?.value,
      startTime: Date.now(),
      tags,
      clientKey: `sweep-${plan.hash}`,
    });
    await sleep(this.options.settleMs ?? 1000);
    const all = await this.#parents();
    const winner = all[0] ?? mine;
    if (winner.info.run_id !== mine.info.run_id) {
      await this.client.deleteRun(mine.info.run_id).catch(() => {});
      return winner;
    }
    await this.client.logBatch(mine.info.run_id, {
      params: [
        { key: 'sweep.trials', value: String(plan.trials.length) },
        { key: 'sweep.metric', value: plan.metric.name },
        { key: 'sweep.goal', value: plan.metric.goal },
      ],
    });
    await this.#upload(mine, 'matrix.yaml');
    await this.#upload(mine, 'plan.json');
    return mine;
  }

  /** Parent runs of this sweep hash, oldest first (start time, then run id). */
  async #parents(): Promise<Run[]> {
    const runs = await this.client.searchRuns({
      experimentIds: [this.#experimentId],
      filter: `tags.\`${TAGS.sweepHash}\` = '${this.plan.hash}'`,
      viewType: 'ACTIVE_ONLY',
    });
    return runs
      .filter((run) => !tag(run, TAGS.parentRunId))
      .sort((a, b) => (a.info.start_time ?? 0) - (b.info.start_time ?? 0) || a.info.run_id.localeCompare(b.info.run_id));
  }

  async #upload(run: Run, name: string): Promise<void> {
    const file = this.options.folder.path(name);
    if (existsSync(file)) await this.client.uploadArtifact(run.info.artifact_uri, file, name);
  }

  async reopen(): Promise<void> {
    const parent = this.#parent;
    if (parent && parent.info.status !== 'RUNNING') {
      await this.client.updateRun(parent.info.run_id, { status: 'RUNNING' });
      parent.info.status = 'RUNNING';
    }
  }

  async lookup(hashes: Iterable<string>): Promise<Map<string, FoundRun>> {
    const wanted = new Set(hashes);
    const found = new Map<string, FoundRun>();
    const consider = (run: Run) => {
      const hash = tag(run, TAGS.configHash);
      if (!hash || !wanted.has(hash)) return;
      const candidate = fromRun(run);
      const current = found.get(hash);
      if (!current || better(candidate, current, this.parentRunId)) found.set(hash, candidate);
    };
    const experimentIds = [this.#experimentId];
    for (const run of await this.client.searchRuns({ experimentIds, filter: "attributes.status = 'FINISHED'" })) consider(run);
    if (this.parentRunId) {
      for (const run of await this.client.searchRuns({ experimentIds, filter: `tags.\`${TAGS.parentRunId}\` = '${this.parentRunId}'` }))
        consider(run);
    }
    return found;
  }

  async trialEnded(progress: TrialProgress): Promise<void> {
    let runId = progress.mlflowRunId;
    if (!runId && this.parentRunId && progress.startedAt) {
      // The process died before it said which run it had: the run of this trial started since.
      const runs = await this.client.searchRuns({
        experimentIds: [this.#experimentId],
        filter: `tags.\`${TAGS.parentRunId}\` = '${this.parentRunId}' AND tags.\`${TAGS.configHash}\` = '${progress.trial.hash}' AND attributes.status = 'RUNNING'`,
      });
      runId = runs.find((r) => (r.info.start_time ?? 0) >= progress.startedAt! - 5000)?.info.run_id;
      progress.mlflowRunId = runId;
    }
    if (!runId) return;
    progress.parentRunId = this.parentRunId;
    const label = `trial ${progress.trial.index}: ${progress.trial.label}`;
    await this.client.logBatch(runId, {
      tags: [
        { key: TAGS.sweepTrial, value: String(progress.trial.index) },
        { key: TAGS.sweepLabel, value: truncateCodePoints(progress.trial.label, LIMITS.tagValueLength) },
        ...(progress.runId ? [{ key: TAGS.runFolder, value: progress.runId }] : []),
        { key: 'mlflow.runName', value: truncateCodePoints(label, LIMITS.tagValueLength) },
      ],
    });
    // A process that could not close its run (killed hard, or stopped while closing it): close it for it.
    const status: RunStatus | undefined =
      progress.state === 'killed'
        ? 'KILLED'
        : progress.state === 'failed'
          ? 'FAILED'
          : progress.state === 'finished'
            ? 'FINISHED'
            : undefined;
    if (status) {
      const run = await this.client.getRun(runId);
      if (run?.info.status === 'RUNNING') await this.client.updateRun(runId, { status, endTime: Date.now() });
    }
  }

  async finalize(trials: TrialProgress[], status: SweepStatus): Promise<void> {
    const parent = this.#parent;
    writeSummary(this.options.folder, this.plan, trials, status, this.parentRunId);
    if (!parent) return;
    const { metric } = this.plan;
    const best = bestTrial(trials, metric);
    const now = Date.now();
    const metrics: Metric[] = [
      { key: 'trials_finished', value: trials.filter(succeeded).length, timestamp: now, step: 0 },
      { key: 'trials_failed', value: trials.filter((t) => t.state === 'failed' || t.state === 'killed').length, timestamp: now, step: 0 },
    ];
    const tags: KeyValue[] = [{ key: TAGS.sweepStatus, value: status }];
    if (best) {
      metrics.push({
        key: metric.name.startsWith('best_') ? metric.name : `best_${metric.name}`,
        value: finalMetric(best, metric)!,
        timestamp: now,
        step: 0,
      });
      tags.push(
        { key: TAGS.bestTrial, value: String(best.trial.index) },
        { key: TAGS.bestLabel, value: truncateCodePoints(best.trial.label, LIMITS.tagValueLength) },
        ...(best.mlflowRunId ? [{ key: TAGS.bestRunId, value: best.mlflowRunId }] : []),
      );
    }
    await this.client.logBatch(parent.info.run_id, { metrics, tags });
    await this.#upload(parent, 'summary.md');
    await this.#upload(parent, 'summary.json');
    await this.client.updateRun(parent.info.run_id, { status, endTime: now });
    parent.info.status = status;
  }

  async close(): Promise<void> {
    await this.lease?.release();
  }
}

/** With tracking off (or MLflow out of reach): the run folders under <runs-dir>/<name>/ are the record. */
class LocalRecords implements SweepRecords {
  readonly kind = 'local';
  readonly parentRunId = undefined;
  readonly parentUrl = undefined;
  readonly target = undefined;
  readonly parentStatusAtStart = undefined;

  constructor(
    readonly plan: SweepPlan,
    readonly options: RecordsOptions,
  ) {}

  async reopen(): Promise<void> {}

  async lookup(hashes: Iterable<string>): Promise<Map<string, FoundRun>> {
    const wanted = new Set(hashes);
    const found = new Map<string, FoundRun>();
    const dir = join(this.options.runsDir, this.plan.name);
    if (!existsSync(dir)) return found;
    for (const name of readdirSync(dir).sort()) {
      const summary = readJson<{
        status?: RunStatus;
        config_hash?: string;
        metrics?: Record<string, number>;
        mlflow_run_id?: string | null;
        started_at?: string;
      }>(join(dir, name, 'summary.json'));
      if (!summary?.config_hash || !summary.status || !wanted.has(summary.config_hash)) continue;
      const candidate: FoundRun = {
        status: summary.status,
        metrics: summary.metrics ?? {},
        runDir: join(dir, name),
        runId: name,
        mlflowRunId: summary.mlflow_run_id ?? undefined,
        startTime: summary.started_at ? Date.parse(summary.started_at) : undefined,
      };
      const current = found.get(summary.config_hash);
      if (!current || better(candidate, current, undefined)) found.set(summary.config_hash, candidate);
    }
    return found;
  }

  async trialEnded(): Promise<void> {}

  async finalize(trials: TrialProgress[], status: SweepStatus): Promise<void> {
    writeSummary(this.options.folder, this.plan, trials, status, undefined);
  }

  async close(): Promise<void> {}
}

/** summary.md and summary.json in the sweep folder. */
function writeSummary(
  folder: SweepFolder,
  plan: SweepPlan,
  trials: TrialProgress[],
  status: SweepStatus,
  parentRunId: string | undefined,
): void {
  const title = `Sweep ${plan.hash.slice(0, 12)} of ${plan.name}: ${status.toLowerCase()}`;
  writeFileSync(folder.path('summary.md'), summaryMarkdown(title, trials, plan.metric));
  const best = bestTrial(trials, plan.metric);
  const json = {
    sweep_hash: plan.hash,
    status,
    file: plan.file,
    metric: plan.metric,
    parent_run_id: parentRunId ?? null,
    best: best
      ? { trial: best.trial.index, label: best.trial.label, value: finalMetric(best, plan.metric), mlflow_run_id: best.mlflowRunId ?? null }
      : null,
    trials: trials.map((p) => ({
      index: p.trial.index,
      label: p.trial.label,
      values: p.trial.values,
      config_hash: p.trial.hash,
      state: p.state,
      [plan.metric.name]: finalMetric(p, plan.metric) ?? null,
      metrics: p.metrics ?? {},
      seconds: trialSeconds(p) ?? null,
      mlflow_run_id: p.mlflowRunId ?? null,
      run_dir: p.runDir ?? null,
      error: p.error ?? null,
    })),
  };
  writeFileSync(folder.path('summary.json'), JSON.stringify(json, null, 2) + '\n');
}

/** The state a found run gives a trial that this process did not run. */
export function stateOfFound(run: FoundRun | undefined): TrialState {
  switch (run?.status) {
    case 'FINISHED':
      return 'done';
    case 'RUNNING':
    case 'SCHEDULED':
      return 'running';
    case 'FAILED':
      return 'failed';
    case 'KILLED':
      return 'killed';
    default:
      return 'pending';
  }
}

/** FINISHED beats anything; among equals, a run of this sweep's parent, then the latest. */
function better(candidate: FoundRun, current: FoundRun, parentRunId: string | undefined): boolean {
  const rank = (run: FoundRun) => (run.status === 'FINISHED' ? 2 : 0) + (parentRunId && run.parentRunId === parentRunId ? 1 : 0);
  if (rank(candidate) !== rank(current)) return rank(candidate) > rank(current);
  return (candidate.startTime ?? 0) > (current.startTime ?? 0);
}

function fromRun(run: Run): FoundRun {
  const metrics: Record<string, number> = {};
  for (const metric of run.data.metrics) metrics[metric.key] = metric.value;
  return {
    status: run.info.status,
    metrics,
    mlflowRunId: run.info.run_id,
    parentRunId: tag(run, TAGS.parentRunId),
    runId: tag(run, TAGS.runFolder) ?? run.info.run_name,
    startTime: run.info.start_time === undefined ? undefined : Number(run.info.start_time),
    endTime: run.info.end_time === undefined ? undefined : Number(run.info.end_time),
  };
}

function tag(run: Run, key: string): string | undefined {
  return run.data.tags.find((t) => t.key === key)?.value;
}

function parentDescription(plan: SweepPlan): string {
  const rows = plan.trials.map((t) => `| ${t.index} | ${t.label.replace(/\|/g, '\\|')} |`).join('\n');
  return `Sweep of \`${plan.name}\` (${plan.trials.length} trials, ranked by ${plan.metric.name}, ${plan.metric.goal}). Each trial is a nested run.\n\n| # | trial |\n|---|---|\n${rows}`;
}
