import { randomUUID } from 'node:crypto';
import { trackingExperiment, trackingUri } from './location.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import { resolveConnection } from './auth.ts';
import { MlflowClient, MlflowError, type DatasetInput, type LoggedModelInfo, type RunInfo, type RunStatus } from './client.ts';
import { chunkBatch, LIMITS, type Batch, type Metric, truncateCodePoints } from './limits.ts';
import { acquireLocalServer, defaultStoreDir, type LocalServerLease } from './local-store.ts';
import { type MetricsRecord, recordToMetrics } from './metrics-file.ts';
import { flattenParams, LONG_VALUES_FILE, type LongValues, prepareParams, prepareTags } from './params.ts';
import { type ArtifactFile, artifactFiles, ensureRun, stampOf, uploadMissingMetrics } from './remote-run.ts';
import { backoffDelay, type RetryPolicy, sleep } from './retry.ts';
import { readRunRecord, type RunRecord, type TrackingTarget, writeRunRecord } from './run-record.ts';
import { MlflowNotInstalledError, INSTALL_HINT } from './server.ts';
import { standardTags } from './run-tags.ts';
import { TAGS } from './tags.ts';

/** The config's `tracking:` section (or `false` to turn tracking off). */
export interface TrackingSection {
  /** MLflow server URI (else MLFLOW_TRACKING_URI, else the local store under runs/mlflow). */
  uri?: string;
  /** Experiment name (else MLFLOW_EXPERIMENT_NAME, else start()'s experiment, else the config name). */
  experiment?: string;
  /** Extra run tags. */
  tags?: Record<string, string | number | boolean>;
}

/** Options of createTracker. */
export interface CreateTrackerOptions {
  /** The config's tracking section; false turns tracking off. */
  tracking: TrackingSection | false | null | undefined;
  /** The run folder runs/<experiment>/<run-id>. */
  runDir: string;
  /** The config's name. */
  configName: string;
  /** Environment (default process.env): MLFLOW_TRACKING_URI, credentials, MLFLOW_EXPERIMENT_NAME. */
  env?: NodeJS.ProcessEnv;
  /** Where messages go, one line each (default: stderr with a `tracking: ` prefix). */
  log?: (line: string) => void;
  /** Folder of the embedded local store (default: runs/mlflow next to the experiment folders). */
  storeDir?: string;
  /** How long start() waits for the run to exist in MLflow before training goes on regardless, ms (default 20 s; the local server's start-up comes on top). */
  startTimeoutMs?: number;
  /** How long finish() waits for the backlog and artifacts, ms (default 30 s). */
  flushTimeoutMs?: number;
  /** How often the background uploader sends metrics, ms (default 3000: each request costs the server ~15 ms of CPU). */
  flushIntervalMs?: number;
  /** Retry policy of each request before the uploader backs off on its own (default: 2 quick retries). */
  retry?: RetryPolicy;
}

/** What start() needs to open the MLflow run. */
export interface StartOptions {
  /** Experiment name when neither tracking.experiment nor MLFLOW_EXPERIMENT_NAME is set (default: the config name). */
  experiment?: string;
  /** Run name (default: the run folder's name). */
  runName?: string;
  /** The config's description: shown as the run's note (mlflow.note.content). */
  description?: string;
  /** The resolved config (nested): every leaf becomes a dotted param. */
  params?: Record<string, unknown>;
  /** More tags (tracking.tags from the config win over these). */
  tags?: Record<string, string | number | boolean>;
  configHash?: string;
  backend?: string;
  device?: string;
  /** mlflow.source.name (default `runner run <configName>`). */
  sourceName?: string;
  /** Run start, epoch ms (default now). */
  startTime?: number;
  /**
   * Continue the MLflow run recorded in the run folder (runner run --resume) instead of opening a new one: its
   * status goes back to RUNNING, params are not sent again, and points of `keys` that MLflow already holds at
   * steps after `afterStep` (sent by the interrupted process) are not sent twice.
   */
  resume?: { afterStep: number; keys: string[]; kept: MetricsRecord[] };
}

/** How a tracked run ended up. */
export interface FinishResult {
  status: RunStatus;
  /** True when MLflow holds everything (no `runner sync` needed). */
  synced: boolean;
  runId?: string;
  runUrl?: string;
}

/** A model folder to register as a logged model. */
export interface LoggedModelSpec {
  /** The model folder (model.json, weights.bin). */
  dir: string;
  name: string;
  /** MLflow's model_type, e.g. the model component (textcnn). */
  modelType?: string;
  /**
   * The metrics to link to the model, with the step and timestamp the run logged them at: the same points sent
   * again with the model's id add nothing to the run's histories (MLflow drops a run's identical points).
   */
  metrics: Record<string, number>;
  step: number;
  timestamp: number;
}

/** Terminal statuses a run can end with. */
export type EndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** What the training loop talks to: one per run. Never throws from metrics()/artifact(); never blocks a step. */
export interface Tracker {
  /** False for `tracking: false`. */
  readonly enabled: boolean;
  /** MLflow run id, once the run exists there. */
  readonly runId: string | undefined;
  /** MLflow UI address of the run, once it exists. */
  readonly runUrl: string | undefined;
  /** Opens the MLflow run (params, tags); waits a bounded time, then training goes on while it is retried in the background. */
  start(options: StartOptions): Promise<void>;
  /** Queues one metrics.jsonl record for upload; returns at once. */
  metrics(record: MetricsRecord): void;
  /** Queues a file or folder for upload (artifact path default: its path in the run folder, else its name). */
  artifact(localPath: string, artifactPath?: string): void;
  /** Queues the datasets the run used (runs/log-inputs: the UI's Datasets column); sent once the run is open. */
  inputs(datasets: DatasetInput[]): void;
  /**
   * Registers a model folder as the run's MLflow 3 logged model, with `metrics` linked to it; sent at finish()
   * (after the run's artifacts). A server without the logged-model API keeps the model as a run artifact only.
   */
  loggedModel(model: LoggedModelSpec): void;
  /** The logged model's id once MLflow has it. */
  readonly loggedModelId: string | undefined;
  /**
   * Uploads the run folder, flushes the backlog (waiting at most `timeoutMs`, default flushTimeoutMs), sets status
   * and end time (and the error as the runner.error tag); says how to sync if MLflow did not get it all. Idempotent.
   */
  finish(status: EndStatus, error?: unknown, options?: { timeoutMs?: number }): Promise<FinishResult>;
}

/**
 * The tracker for a run: a no-op for `tracking: false`; else MLflow at tracking.uri / MLFLOW_TRACKING_URI, or the
 * embedded local store (its one shared `mlflow server`, joined or started here; finish() leaves it, and the last
 * user stops it).
 */
export function createTracker(options: CreateTrackerOptions): Tracker {
  if (options.tracking === false) return new DisabledTracker();
  return new MlflowTracker(options);
}

class DisabledTracker implements Tracker {
  readonly enabled = false;
  readonly runId = undefined;
  readonly runUrl = undefined;
  readonly loggedModelId = undefined;
  async start(): Promise<void> {}
  metrics(): void {}
  artifact(): void {}
  inputs(): void {}
  loggedModel(): void {}
  async finish(status: EndStatus): Promise<FinishResult> {
    return { status, synced: false };
  }
}

type Step = { kind: 'open' | 'meta' | 'inputs' | 'metrics' | 'artifact' | 'model' | 'close'; run: () => Promise<void> };

/** A logged model on its way: created once (its id kept across retries), then its files, metrics and status. */
interface PendingModel extends LoggedModelSpec {
  info?: LoggedModelInfo;
  files?: ArtifactFile[];
}

const TRACKER_RETRY: RetryPolicy = { retries: 2, baseDelayMs: 200, maxDelayMs: 1000 };
const OFFLINE_BACKOFF: RetryPolicy = { retries: Infinity, baseDelayMs: 500, maxDelayMs: 5000 };
const MAX_BACKLOG = 500_000;

class MlflowTracker implements Tracker {
  readonly enabled = true;
  readonly #opts: CreateTrackerOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #runDir: string;
  readonly #log: (line: string) => void;
  readonly #target: TrackingTarget;
  readonly #flushIntervalMs: number;
  #client: MlflowClient | undefined;
  #connecting: Promise<void>;
  #lease: LocalServerLease | undefined;
  /** Why MLflow cannot be used at all in this run (no retries), e.g. MLflow not installed. */
  #unavailable: string | undefined;
  /** The lines that explain #unavailable (the end of a server's log), printed once. */
  #unavailableDetail: string[] = [];
  #record: RunRecord | undefined;
  #run: RunInfo | undefined;
  #meta: Batch[] = [];
  #pending: Metric[] = [];
  #artifacts: ArtifactFile[] = [];
  #inputs: DatasetInput[] = [];
  #model: PendingModel | undefined;
  #modelId: string | undefined;
  #closeUpdate: { status: EndStatus; endTime: number; error?: string } | undefined;
  #closing = false;
  #incomplete: string[] = [];
  #dropped = 0;
  #lastSend = 0;
  #failures = 0;
  #wake: (() => void) | undefined;
  #abort = new AbortController();
  #pump: Promise<void> | undefined;
  #storeDir: string | undefined;
  #localDead = false;
  #restarts = 0;
  #startWaiting = false;
  #opened: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void };
  #finished: FinishResult | undefined;
  #resume: StartOptions['resume'];
  /** `key|step` of points MLflow already has from before a resume: not sent again. */
  #alreadySent = new Set<string>();

  constructor(opts: CreateTrackerOptions) {
    this.#opts = opts;
    this.#env = opts.env ?? process.env;
    this.#runDir = resolve(opts.runDir);
    this.#log = opts.log ?? ((line) => process.stderr.write(`tracking: ${line}\n`));
    this.#flushIntervalMs = opts.flushIntervalMs ?? 3000;
    this.#opened = deferred();
    this.#opened.promise.catch(() => {});
    const section = opts.tracking || {};
    const uri = trackingUri(section, this.#env);
    if (uri) {
      const connection = resolveConnection(uri, this.#env);
      this.#target = { kind: 'server', uri: connection.uri };
      this.#client = this.#newClient(connection);
      this.#connecting = Promise.resolve();
    } else {
      const storeDir = resolve(opts.storeDir ?? defaultStoreDir(this.#runDir));
      this.#target = { kind: 'local', store: relative(this.#runDir, storeDir) || '.' };
      // Start the local server now, while the caller builds its model.
      this.#storeDir = storeDir;
      this.#connecting = this.#useLocalServer().then(
        () => {},
        (error: unknown) => {
          const [first, ...detail] = (error as Error).message.split('\n');
          this.#unavailable =
            error instanceof MlflowNotInstalledError
              ? `MLflow is not installed, so this run was not sent to the local store. Install it with ${INSTALL_HINT}`
              : `the local MLflow server did not start (${first})`;
          if (!(error instanceof MlflowNotInstalledError)) this.#unavailableDetail = detail;
        },
      );
    }
  }

  /** Acquires the local server (shared in this process) and points the client at it. */
  async #useLocalServer(): Promise<void> {
    const lease = await acquireLocalServer(this.#storeDir!);
    this.#lease = lease;
    if (lease.adopted)
      this.#log(`using the MLflow server already serving this store (another run's, a sweep's or \`runner ui\`'s) at ${lease.server.uri}`);
    this.#localDead = false;
    this.#client = this.#newClient(resolveConnection(lease.server.uri, {}));
    void lease.server.exited.then(() => {
      if (this.#lease !== lease || this.#finished) return;
      this.#localDead = true;
      this.#log(`the local MLflow server stopped unexpectedly (log: ${lease.server.logFile}); restarting it`);
    });
  }

  /** After the local server died: start it again (a few times per run at most). */
  async #restartLocalServer(): Promise<void> {
    if (!this.#localDead || this.#restarts >= 3 || this.#closing) return;
    this.#restarts++;
    await this.#release();
    try {
      await this.#useLocalServer();
    } catch (error) {
      this.#log(`the local MLflow server did not start again: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  get runId(): string | undefined {
    return this.#run?.run_id;
  }

  get runUrl(): string | undefined {
    return this.#record?.run_url;
  }

  get loggedModelId(): string | undefined {
    return this.#modelId;
  }

  inputs(datasets: DatasetInput[]): void {
    if (!this.#record || this.#closing || this.#unavailable) return;
    this.#inputs.push(...datasets);
    this.#wake?.();
  }

  loggedModel(model: LoggedModelSpec): void {
    if (!this.#record || this.#closing || this.#unavailable) return;
    this.#model = { ...model, dir: resolve(this.#runDir, model.dir) };
  }

  #newClient(connection: ReturnType<typeof resolveConnection>): MlflowClient {
    return new MlflowClient(connection, { retry: this.#opts.retry ?? TRACKER_RETRY, timeoutMs: 15_000 });
  }

  async start(options: StartOptions): Promise<void> {
    if (this.#record) throw new Error('tracker.start() was called twice');
    const section = this.#opts.tracking || {};
    const experiment = trackingExperiment(section, options.experiment || this.#opts.configName, this.#env);
    const runName = options.runName ?? basename(this.#runDir);
    const tags: Record<string, string> = {
      ...standardTags(
        {
          runName,
          description: options.description,
          configName: this.#opts.configName,
          configHash: options.configHash,
          backend: options.backend,
          device: options.device,
          sourceName: options.sourceName,
        },
        this.#env,
      ),
      ...stringValues(options.tags),
      ...stringValues(section.tags),
    };
    const previous = options.resume ? readRunRecord(this.#runDir) : undefined;
    if (previous) {
      this.#resume = options.resume;
      // MLflow keeps params write-once: the run keeps the params it started with (a --force edit is a tag).
      delete tags[TAGS.configHash];
      tags[TAGS.resumedAt] = new Date().toISOString();
      if (options.configHash && previous.tags.some((t) => t.key === TAGS.configHash && t.value !== options.configHash))
        tags[TAGS.resumedConfigHash] = options.configHash;
    }
    const preparedParams = prepareParams(flattenParams(previous ? {} : (options.params ?? {})));
    const preparedTags = prepareTags(tags);
    const long: LongValues = { params: preparedParams.long, tags: preparedTags.long };
    mkdirSync(this.#runDir, { recursive: true });
    if (!previous && Object.keys(long.params).length + Object.keys(long.tags).length > 0) {
      writeFileSync(join(this.#runDir, LONG_VALUES_FILE), `${JSON.stringify(long, null, 2)}\n`);
    }
    this.#record = previous
      ? {
          ...previous,
          status: 'RUNNING',
          end_time: undefined,
          error: undefined,
          synced: false,
          tags: mergeTags(previous.tags, preparedTags.tags),
          pid: process.pid,
          host: hostname(),
        }
      : {
          version: 1,
          target: this.#target,
          experiment,
          run_name: runName,
          client_key: randomUUID(),
          start_time: options.startTime ?? Date.now(),
          status: 'RUNNING',
          params: preparedParams.params,
          tags: preparedTags.tags,
          artifacts: [],
          synced: false,
          pid: process.pid,
          host: hostname(),
        };
    this.#saveRecord();
    // A resumed run sends the params it recorded (the same values: MLflow accepts them again, and has them
    // even if the interrupted process never reached it).
    this.#meta = chunkBatch({ params: previous ? previous.params : preparedParams.params, tags: preparedTags.tags });

    await this.#connecting;
    if (this.#unavailable) {
      this.#log(`${this.#unavailable}. Training goes on; everything is kept in ${this.#displayDir()}.`);
      for (const line of this.#unavailableDetail) this.#log(`  ${line}`);
      return;
    }
    this.#pump = this.#runPump();
    const timeoutMs = this.#opts.startTimeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
      timer.unref();
    });
    this.#startWaiting = true;
    try {
      const outcome = await Promise.race([this.#opened.promise.then(() => 'open' as const), timedOut]);
      if (outcome === 'open') {
        const where =
          this.#target.kind !== 'local'
            ? ''
            : this.#lease?.adopted
              ? ' (local store, on the server it shares with other runs, sweeps and `runner ui`)'
              : ' (local store; live while this run lasts, later with `runner ui`)';
        this.#log(`run ${this.#run?.run_id} in experiment "${experiment}": ${this.#record.run_url}${where}`);
      } else
        this.#log(
          `MLflow at ${this.#client?.uri} did not answer within ${Math.round(timeoutMs / 1000)} s; training goes on and the run is sent when it answers`,
        );
    } catch (error) {
      // A refusal that retrying cannot fix (credentials, a deleted experiment, a bad name): stop before training.
      this.#abort.abort(new Error('tracking stopped'));
      await this.#pump.catch(() => {});
      await this.#release();
      if (error instanceof UserError) throw error;
      throw new UserError(`${(error as Error).message} The run was not started.`, { cause: error });
    } finally {
      this.#startWaiting = false;
      clearTimeout(timer);
    }
  }

  metrics(record: MetricsRecord): void {
    if (!this.#record || this.#closing || this.#unavailable) return;
    let points: Metric[];
    try {
      points = recordToMetrics(record.timestamp === undefined ? { ...record, timestamp: Date.now() } : record);
    } catch {
      return;
    }
    if (this.#pending.length + points.length > MAX_BACKLOG) {
      if (this.#dropped === 0)
        this.#log(`more than ${MAX_BACKLOG} metric points wait for MLflow; newer ones stay in metrics.jsonl only (runner sync sends them)`);
      this.#dropped += points.length;
      return;
    }
    this.#pending.push(...points);
    if (this.#pending.length >= LIMITS.metricsPerBatch) this.#wake?.();
  }

  artifact(localPath: string, artifactPath?: string): void {
    if (!this.#record || this.#closing) return;
    const local = resolve(this.#runDir, localPath);
    const inside = isInside(this.#runDir, local);
    const path = artifactPath ?? (inside ? relative(this.#runDir, local).split(sep).join('/') : basename(local));
    const natural = inside && path === relative(this.#runDir, local).split(sep).join('/');
    if (!natural && !this.#record.artifacts.some((a) => a.path === path)) {
      this.#record.artifacts.push({ local: inside ? relative(this.#runDir, local) : local, path });
      this.#saveRecord();
    }
    if (this.#unavailable) return;
    this.#artifacts.push(...artifactFiles(local, path, this.#runDir));
    this.#wake?.();
  }

  async finish(status: EndStatus, error?: unknown, options: { timeoutMs?: number } = {}): Promise<FinishResult> {
    if (this.#finished) return this.#finished;
    const record = this.#record;
    if (!record) {
      await this.#connecting;
      await this.#release();
      return (this.#finished = { status, synced: false });
    }
    record.status = status;
    record.end_time = Date.now();
    if (error !== undefined) record.error = errorText(error);
    this.#saveRecord();
    // The whole run folder (config.yaml, vocab.txt, metrics.jsonl, model/, summary.json, ...), then any extra artifacts.
    const files = artifactFiles(this.#runDir, '', this.#runDir);
    for (const extra of record.artifacts) files.push(...artifactFiles(resolve(this.#runDir, extra.local), extra.path, this.#runDir));
    this.#artifacts.push(...files);
    this.#closeUpdate = { status, endTime: record.end_time, error: record.error };
    this.#closing = true;
    this.#wake?.();

    if (this.#pump) {
      const timeoutMs = options.timeoutMs ?? this.#opts.flushTimeoutMs ?? 30_000;
      const backlog = this.#pending.length;
      if (this.#failures > 0 || !this.#run)
        this.#log(
          `waiting up to ${Math.round(timeoutMs / 1000)} s for MLflow at ${this.#client?.uri} (${backlog} metric points and ${this.#artifacts.length} files to send)`,
        );
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      });
      await Promise.race([this.#pump, deadline]);
      clearTimeout(timer);
      this.#abort.abort(new Error('tracking stopped'));
      await this.#pump.catch(() => {});
    }
    const leftover =
      this.#pending.length +
      this.#artifacts.length +
      this.#meta.length +
      this.#inputs.length +
      (this.#model ? 1 : 0) +
      (this.#closeUpdate ? 1 : 0);
    const synced = !this.#unavailable && !!this.#run && leftover === 0 && this.#dropped === 0 && this.#incomplete.length === 0;
    record.synced = synced;
    this.#saveRecord();
    const sync = `runner sync ${this.#displayDir()}`;
    if (synced) {
      if (this.#target.kind === 'local') {
        this.#log(
          `run ${status.toLowerCase()}, all sent to the local MLflow store ${this.#displayPath(resolve(this.#runDir, this.#target.store))}; see it with \`runner ui\``,
        );
      } else {
        this.#log(`run ${status.toLowerCase()}, all sent to MLflow: ${record.run_url}`);
      }
    } else if (this.#unavailable) {
      this.#log(`${this.#unavailable}, then run \`${sync}\` to upload this run.`);
    } else {
      const why =
        this.#incomplete[0] ??
        (this.#run ? `MLflow at ${this.#client?.uri} did not take everything in time` : `MLflow at ${this.#client?.uri} was not reachable`);
      this.#log(`${why}. Everything is on disk in ${this.#displayDir()}; run \`${sync}\` to upload it once MLflow is up.`);
    }
    await this.#release();
    return (this.#finished = { status, synced, runId: this.#run?.run_id, runUrl: record.run_url });
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release();
  }

  #displayDir(): string {
    return this.#displayPath(this.#runDir);
  }

  /** A path relative to the working folder when it lies inside it. */
  #displayPath(path: string): string {
    const rel = relative(process.cwd(), path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  }

  #saveRecord(): void {
    if (!this.#record) return;
    try {
      writeRunRecord(this.#runDir, this.#record);
    } catch (error) {
      this.#log(`cannot write ${join(this.#runDir, 'tracking.json')}: ${(error as Error).message}`);
    }
  }

  /** The next thing to send, in order: open the run, params/tags, metrics, artifacts, final status. */
  #nextStep(): Step | undefined {
    const client = this.#client;
    const record = this.#record;
    if (!client || !record) return undefined;
    const signal = this.#abort.signal;
    if (!this.#run) {
      return {
        kind: 'open',
        run: async () => {
          const run = await ensureRun(client, record, { signal });
          if (this.#resume) await this.#reopen(client, run.info.run_id, signal);
          this.#run = run.info;
          this.#saveRecord();
          if (this.#meta.length === 0) this.#opened.resolve();
        },
      };
    }
    const runId = this.#run.run_id;
    const artifactUri = this.#run.artifact_uri;
    const meta = this.#meta[0];
    if (meta) {
      return {
        kind: 'meta',
        run: async () => {
          await client.logBatchChunk(runId, meta, { signal });
          this.#meta.shift();
          if (this.#meta.length === 0) this.#opened.resolve();
        },
      };
    }
    const inputs = this.#inputs;
    if (inputs.length > 0) {
      return {
        kind: 'inputs',
        run: async () => {
          try {
            await client.logInputs(runId, inputs, { signal });
          } catch (error) {
            // Runs started together may register the same dataset at once, and the store lets one of them win (a
            // refusal seen once in 24 runs of bench/shared-store, cause not confirmed); a second try finds the
            // dataset there and only links it.
            if (!(error instanceof MlflowError) || error.retryable) throw error;
            await sleep(250 + Math.random() * 500, signal);
            await client.logInputs(runId, inputs, { signal });
          }
          this.#inputs = this.#inputs.slice(inputs.length);
        },
      };
    }
    const due = this.#closing || this.#pending.length >= LIMITS.metricsPerBatch || Date.now() - this.#lastSend >= this.#flushIntervalMs;
    if (this.#alreadySent.size > 0) this.#pending = this.#pending.filter((m) => !this.#alreadySent.has(`${m.key}|${m.step}`));
    if (this.#pending.length > 0 && due) {
      const chunk = chunkBatch({ metrics: this.#pending.slice(0, LIMITS.metricsPerBatch) })[0]!;
      return {
        kind: 'metrics',
        run: async () => {
          this.#lastSend = Date.now();
          await client.logBatchChunk(runId, chunk, { signal });
          this.#pending.splice(0, chunk.metrics.length);
        },
      };
    }
    const file = this.#artifacts[0];
    if (file) {
      return {
        kind: 'artifact',
        run: async () => {
          const stamp = stampOf(file.local);
          if (stamp) {
            await client.uploadArtifact(artifactUri, file.local, file.path, { signal });
            (record.uploaded ??= {})[file.path] = stamp;
          }
          this.#artifacts.shift();
        },
      };
    }
    const model = this.#closing && this.#pending.length === 0 ? this.#model : undefined;
    if (model) {
      return {
        kind: 'model',
        run: async () => {
          await this.#sendModel(client, this.#run!, model, signal);
          this.#model = undefined;
        },
      };
    }
    const close = this.#closing && this.#pending.length === 0 ? this.#closeUpdate : undefined;
    if (close) {
      return {
        kind: 'close',
        run: async () => {
          if (close.error) await client.setTag(runId, TAGS.error, truncateCodePoints(close.error, LIMITS.tagValueLength), { signal });
          await client.updateRun(runId, { status: close.status, endTime: close.endTime }, { signal });
          this.#closeUpdate = undefined;
        },
      };
    }
    return undefined;
  }

  /** Creates the logged model (once), uploads its files, links its metrics, marks it ready; an old server is told of once. */
  async #sendModel(client: MlflowClient, run: RunInfo, model: PendingModel, signal: AbortSignal): Promise<void> {
    if (!model.info) {
      try {
        model.info = await client.createLoggedModel(
          { experimentId: run.experiment_id, name: model.name, sourceRunId: run.run_id, modelType: model.modelType },
          { signal },
        );
      } catch (error) {
        if (error instanceof MlflowError && (error.status === 404 || error.errorCode === 'ENDPOINT_NOT_FOUND')) {
          this.#log(`MLflow at ${client.uri} has no logged-model API (MLflow < 3); the model is a run artifact only`);
          return;
        }
        throw error;
      }
      model.files = artifactFiles(model.dir, '');
    }
    const info = model.info;
    while (model.files!.length > 0) {
      const file = model.files![0]!;
      await client.uploadArtifact(info.artifact_uri, file.local, file.path, { signal });
      model.files!.shift();
    }
    const metrics = recordToMetrics({ step: model.step, timestamp: model.timestamp, metrics: model.metrics }).map((m) => ({
      ...m,
      model_id: info.model_id,
    }));
    for (const chunk of chunkBatch({ metrics })) await client.logBatchChunk(run.run_id, chunk, { signal });
    await client.finalizeLoggedModel(info.model_id, 'LOGGED_MODEL_READY', { signal });
    this.#modelId = info.model_id;
  }

  /**
   * A resumed run: RUNNING again; the records it keeps from before (up to its checkpoint) that the interrupted
   * process had not sent yet are sent now, and the points it sent after the checkpoint are remembered so that
   * the same steps, logged again, are not sent twice.
   */
  async #reopen(client: MlflowClient, runId: string, signal: AbortSignal): Promise<void> {
    await client.updateRun(runId, { status: 'RUNNING' }, { signal });
    const { afterStep, keys, kept } = this.#resume!;
    await uploadMissingMetrics(client, runId, kept.flatMap(recordToMetrics), { signal });
    for (const key of keys) {
      for (const point of await client.getMetricHistory(runId, key, { signal })) {
        if (point.step > afterStep) this.#alreadySent.add(`${key}|${point.step}`);
      }
    }
  }

  async #runPump(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const step = this.#nextStep();
      if (!step) {
        if (this.#closing && this.#run) return;
        await this.#idle();
        continue;
      }
      try {
        await step.run();
        if (this.#failures > 0)
          this.#log(`MLflow at ${this.#client?.uri} answers again; sending the backlog (${this.#pending.length} metric points)`);
        this.#failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof MlflowError && error.retryable) {
          if (this.#failures === 0) {
            this.#log(
              `${this.#client?.connection.redact(error.message) ?? error.message}; training goes on, metrics are kept in metrics.jsonl and sent when MLflow answers again`,
            );
          }
          this.#failures++;
          await this.#restartLocalServer();
          await sleep(backoffDelay(OFFLINE_BACKOFF, Math.min(this.#failures - 1, 10)), signal).catch(() => {});
          continue;
        }
        this.#giveUp(step, error);
      }
    }
  }

  /** A refusal retrying cannot fix: drop that step, remember the run is incomplete. */
  #giveUp(step: Step, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (step.kind === 'open') {
      this.#opened.reject(error);
      if (!this.#startWaiting) this.#log(`MLflow refused the run: ${message}`);
      // Nothing else can be sent without a run: stop the uploader.
      this.#incomplete.push(`MLflow refused the run: ${message}`);
      this.#pending = [];
      this.#artifacts = [];
      this.#meta = [];
      this.#closeUpdate = undefined;
      this.#run = undefined;
      this.#abort.abort(new Error('tracking stopped'));
      return;
    }
    const what =
      {
        meta: 'params/tags',
        inputs: 'the dataset inputs',
        model: 'the logged model',
        metrics: 'some metrics',
        artifact: 'an artifact',
        close: 'the final status',
      }[step.kind as string] ?? step.kind;
    this.#log(`MLflow refused ${what}: ${message}`);
    this.#incomplete.push(`MLflow refused ${what}`);
    if (step.kind === 'inputs') this.#inputs = [];
    else if (step.kind === 'model') this.#model = undefined;
    else if (step.kind === 'meta') {
      this.#meta.shift();
      if (this.#meta.length === 0) this.#opened.resolve();
    } else if (step.kind === 'metrics') {
      this.#pending.splice(0, Math.min(this.#pending.length, LIMITS.metricsPerBatch));
    } else if (step.kind === 'artifact') {
      if (error instanceof MlflowError && error.errorCode === 'ARTIFACTS_NOT_PROXIED') this.#artifacts = [];
      else this.#artifacts.shift();
    } else {
      this.#closeUpdate = undefined;
    }
  }

  /** Waits until there is something to send: a wake-up, or the next flush tick when metrics wait. */
  #idle(): Promise<void> {
    return new Promise((resolveIdle) => {
      const done = () => {
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolveIdle();
      };
      const wait = this.#pending.length > 0 ? Math.max(10, this.#flushIntervalMs - (Date.now() - this.#lastSend)) : this.#flushIntervalMs;
      const timer = setTimeout(done, wait);
      timer.unref();
      this.#wake = done;
      this.#abort.signal.addEventListener('abort', done, { once: true });
    });
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolveFn!: () => void;
  let rejectFn!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolveFn = res;
    rejectFn = rej;
  });
  return { promise, resolve: resolveFn, reject: rejectFn };
}

function stringValues(values: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

/** Tags of a run record with newer values for the same keys. */
function mergeTags(old: RunRecord['tags'], newer: RunRecord['tags']): RunRecord['tags'] {
  const keys = new Set(newer.map((t) => t.key));
  return [...old.filter((t) => !keys.has(t.key)), ...newer];
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
