import { openAsBlob } from 'node:fs';
import { UserError } from '../errors.ts';
import type { Connection } from './auth.ts';
import { TAGS } from './tags.ts';
import { type Batch, chunkBatch, decodeMetricValue, type KeyValue, LIMITS, type Metric, toJson } from './limits.ts';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, type RetryPolicy, sleep } from './retry.ts';

/** Run status names as MLflow spells them. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** An experiment as the server returns it. */
export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
  artifact_location?: string;
}

/** A run's attributes. */
export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

/** A run with its data (metrics hold only the latest value per key). */
export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] };
}

/** One entry of an artifact listing. */
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** A failed MLflow request: HTTP status (none for network errors), MLflow error code, and whether a retry may help. */
export class MlflowError extends Error {
  override name = 'MlflowError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorCode: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Information handed to `onRetry` before each retry. */
export interface RetryEvent {
  method: string;
  path: string;
  attempt: number;
  delayMs: number;
  error: MlflowError;
}

/** Options of a client. */
export interface ClientOptions {
  /** Default retry policy of every call (each call may pass its own). */
  retry?: RetryPolicy;
  /** Timeout of one attempt of an API call, ms (default 30 s). */
  timeoutMs?: number;
  /** Timeout of one attempt of an artifact transfer, ms (default 10 min). */
  artifactTimeoutMs?: number;
  /** Called before each retry (for logging). */
  onRetry?: (event: RetryEvent) => void;
}

/** Per-call options. */
export interface CallOptions {
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

interface RequestSpec extends CallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** Path under the server base, e.g. `/api/2.0/mlflow/runs/get`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Blob | Buffer;
  bytes?: boolean;
  timeoutMs?: number;
}

const API = '/api/2.0/mlflow';
const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

/** One dataset a run used, as runs/log-inputs takes it. */
export interface DatasetInput {
  /** mlflow.data.context: train, validation, test, eval. */
  context: string;
  name: string;
  digest: string;
  /** local, http, ... */
  sourceType: string;
  /** JSON text, e.g. {"uri": "/data/imdb"}. */
  source: string;
  /** JSON text. */
  schema?: string;
  /** JSON text, e.g. {"num_rows": 25000}. */
  profile?: string;
}

/** An MLflow 3 logged model's info. */
export interface LoggedModelInfo {
  model_id: string;
  experiment_id: string;
  name: string;
  artifact_uri: string;
  status?: string;
  source_run_id?: string;
}

/** A logged model with the metrics linked to it. */
export interface LoggedModel {
  info: LoggedModelInfo;
  data?: { metrics?: Array<{ key: string; value: number; run_id?: string }> };
}

/** A small MLflow REST client over fetch: retries, limits, NaN/Inf, auth, proxied artifacts. */
export class MlflowClient {
  readonly connection: Connection;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #artifactTimeoutMs: number;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;

  constructor(connection: Connection, options: ClientOptions = {}) {
    this.connection = connection;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#artifactTimeoutMs = options.artifactTimeoutMs ?? 600_000;
    this.#onRetry = options.onRetry;
  }

  /** The server base URL (no credentials). */
  get uri(): string {
    return this.connection.uri;
  }

  /** True when GET /health answers 200 (one attempt, short timeout). */
  async health(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await fetch(`${this.uri}/health`, { headers: this.connection.headers(), signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** The experiment with this name (active or deleted), or undefined. */
  async getExperimentByName(name: string, options?: CallOptions): Promise<Experiment | undefined> {
    try {
      const res = await this.#call<{ experiment: Experiment }>({
        ...options,
        method: 'GET',
        path: `${API}/experiments/get-by-name`,
        query: { experiment_name: name },
      });
      return res.experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /** Creates an experiment and returns its id (fails with RESOURCE_ALREADY_EXISTS when the name is taken). */
  async createExperiment(name: string, tags: KeyValue[] = [], options?: CallOptions): Promise<string> {
    const res = await this.#call<{ experiment_id: string }>({
      ...options,
      method: 'POST',
      path: `${API}/experiments/create`,
      json: { name, tags },
    });
    return res.experiment_id;
  }

  /** The active experiment with this name, created (with `tags`) when missing; a deleted one is a UserError. */
  async getOrCreateExperiment(name: string, options?: CallOptions, tags: KeyValue[] = []): Promise<Experiment> {
    if (!name || [...name].length > LIMITS.experimentNameLength) {
      throw new UserError(`The MLflow experiment name must have 1 to ${LIMITS.experimentNameLength} characters; got ${[...name].length}.`);
    }
    const existing = await this.getExperimentByName(name, options);
    if (existing) return this.#checkActive(existing);
    try {
      const id = await this.createExperiment(name, tags, options);
      return { experiment_id: id, name, lifecycle_stage: 'active' };
    } catch (error) {
      // Created meanwhile by someone else, or by our own first attempt whose answer was lost.
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw error;
      const again = await this.getExperimentByName(name, options);
      if (!again) throw error;
      return this.#checkActive(again);
    }
  }

  #checkActive(experiment: Experiment): Experiment {
    if (experiment.lifecycle_stage === 'deleted') {
      throw new UserError(
        `The MLflow experiment "${experiment.name}" (id ${experiment.experiment_id}) at ${this.uri} is deleted, and MLflow ` +
          `keeps its name reserved. Restore it in the MLflow UI (or with \`mlflow experiments restore --experiment-id ` +
          `${experiment.experiment_id}\`), delete it for good (\`mlflow gc\`), or choose another tracking.experiment.`,
      );
    }
    return experiment;
  }

  /**
   * Creates a run tagged with `clientKey`, safely under retries: before each retry it searches for a run with
   * that key, so a create whose answer was lost is not repeated.
   */
  async createRun(
    spec: { experimentId: string; runName?: string; startTime: number; tags?: KeyValue[]; clientKey: string },
    options: CallOptions = {},
  ): Promise<Run> {
    const policy = options.retry ?? this.#retry;
    const tags = [...(spec.tags ?? []).filter((t) => t.key !== TAGS.clientKey), { key: TAGS.clientKey, value: spec.clientKey }];
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0) {
          const found = await this.findRunByClientKey(spec.experimentId, spec.clientKey, { ...options, retry: noRetry });
          if (found) return found;
        }
        const res = await this.#call<{ run: unknown }>({
          ...options,
          retry: noRetry,
          method: 'POST',
          path: `${API}/runs/create`,
          json: { experiment_id: spec.experimentId, run_name: spec.runName, start_time: spec.startTime, tags },
        });
        return normalizeRun(res.run);
      } catch (error) {
        await this.#beforeRetry(error, policy, attempt, 'POST', 'runs/create', options.signal);
      }
    }
  }

  /** The active run of an experiment that carries this client key, or undefined. */
  async findRunByClientKey(experimentId: string, clientKey: string, options?: CallOptions): Promise<Run | undefined> {
    const runs = await this.searchRuns(
      { experimentIds: [experimentId], filter: `tags.\`${TAGS.clientKey}\` = '${clientKey.replace(/'/g, '')}'`, maxResults: 10 },
      options,
    );
    return runs[0];
  }

  /** The run, or undefined when the server has no run with this id. */
  async getRun(runId: string, options?: CallOptions): Promise<Run | undefined> {
    try {
      const res = await this.#call<{ run: unknown }>({ ...options, method: 'GET', path: `${API}/runs/get`, query: { run_id: runId } });
      return normalizeRun(res.run);
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /** Sets a run's status, end time and/or name. */
  async updateRun(
    runId: string,
    update: { status?: RunStatus; endTime?: number; runName?: string },
    options?: CallOptions,
  ): Promise<RunInfo> {
    const res = await this.#call<{ run_info: RunInfo }>({
      ...options,
      method: 'POST',
      path: `${API}/runs/update`,
      json: { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName },
    });
    return res.run_info;
  }

  /** Sends metrics, params and tags, split into as many log-batch requests as the server limits need, in order. */
  async logBatch(runId: string, batch: Partial<Batch>, options?: CallOptions): Promise<void> {
    for (const chunk of chunkBatch(batch)) await this.logBatchChunk(runId, chunk, options);
  }

  /** Sends one log-batch request as is (the caller keeps it within the limits; see chunkBatch). */
  async logBatchChunk(runId: string, chunk: Batch, options?: CallOptions): Promise<void> {
    await this.#call({ ...options, method: 'POST', path: `${API}/runs/log-batch`, json: { run_id: runId, ...chunk } });
  }

  /** Sets one tag (last write wins). */
  async setTag(runId: string, key: string, value: string, options?: CallOptions): Promise<void> {
    await this.#call({ ...options, method: 'POST', path: `${API}/runs/set-tag`, json: { run_id: runId, key, value } });
  }

  /** Records the datasets a run used (runs/log-inputs): the UI's Datasets column. */
  async logInputs(runId: string, inputs: DatasetInput[], options?: CallOptions): Promise<void> {
    const datasets = inputs.map((input) => ({
      tags: [{ key: 'mlflow.data.context', value: input.context }],
      dataset: {
        name: input.name,
        digest: input.digest,
        source_type: input.sourceType,
        source: input.source,
        ...(input.schema !== undefined && { schema: input.schema }),
        ...(input.profile !== undefined && { profile: input.profile }),
      },
    }));
    await this.#call({ ...options, method: 'POST', path: `${API}/runs/log-inputs`, json: { run_id: runId, datasets } });
  }

  /** Creates an MLflow 3 logged model (status pending) from a run; an older server answers 404 (ENDPOINT_NOT_FOUND). */
  async createLoggedModel(
    spec: { experimentId: string; name: string; sourceRunId: string; modelType?: string },
    options?: CallOptions,
  ): Promise<LoggedModelInfo> {
    const res = await this.#call<{ model: { info: LoggedModelInfo } }>({
      ...options,
      method: 'POST',
      path: `${API}/logged-models`,
      json: { experiment_id: spec.experimentId, name: spec.name, source_run_id: spec.sourceRunId, model_type: spec.modelType },
    });
    return res.model.info;
  }

  /** Marks a logged model ready (its files are uploaded) or failed. */
  async finalizeLoggedModel(
    modelId: string,
    status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED',
    options?: CallOptions,
  ): Promise<void> {
    await this.#call({
      ...options,
      method: 'PATCH',
      path: `${API}/logged-models/${encodeURIComponent(modelId)}`,
      json: { model_id: modelId, status },
    });
  }

  /** A logged model with its metrics. */
  async getLoggedModel(modelId: string, options?: CallOptions): Promise<LoggedModel> {
    const res = await this.#call<{ model: LoggedModel }>({
      ...options,
      method: 'GET',
      path: `${API}/logged-models/${encodeURIComponent(modelId)}`,
    });
    return res.model;
  }

  /** The logged models of experiments. */
  async searchLoggedModels(experimentIds: string[], options?: CallOptions): Promise<LoggedModel[]> {
    const res = await this.#call<{ models?: LoggedModel[] }>({
      ...options,
      method: 'POST',
      path: `${API}/logged-models/search`,
      json: { experiment_ids: experimentIds },
    });
    return res.models ?? [];
  }

  /** Moves a run to MLflow's trash (lifecycle_stage deleted; restorable in the UI). */
  async deleteRun(runId: string, options?: CallOptions): Promise<void> {
    await this.#call({ ...options, method: 'POST', path: `${API}/runs/delete`, json: { run_id: runId } });
  }

  /** All runs matching a search, every page fetched. */
  async searchRuns(
    query: {
      experimentIds: string[];
      filter?: string;
      orderBy?: string[];
      maxResults?: number;
      viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
    },
    options?: CallOptions,
  ): Promise<Run[]> {
    const runs: Run[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#call<{ runs?: unknown[]; next_page_token?: string }>({
        ...options,
        method: 'POST',
        path: `${API}/runs/search`,
        json: {
          experiment_ids: query.experimentIds,
          filter: query.filter,
          order_by: query.orderBy,
          run_view_type: query.viewType,
          max_results: query.maxResults ?? 1000,
          page_token: pageToken,
        },
      });
      for (const run of res.runs ?? []) runs.push(normalizeRun(run));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  /** The full history of one metric (every page), NaN/±Inf decoded. */
  async getMetricHistory(runId: string, key: string, options?: CallOptions): Promise<Metric[]> {
    const metrics: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#call<{ metrics?: Array<Metric & { value: unknown }>; next_page_token?: string }>({
        ...options,
        method: 'GET',
        path: `${API}/metrics/get-history`,
        query: { run_id: runId, metric_key: key, max_results: 25000, page_token: pageToken },
      });
      for (const m of res.metrics ?? []) {
        metrics.push({ key: m.key, value: decodeMetricValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) });
      }
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return metrics;
  }

  /** The artifacts directly under `path` (run-relative; '' = the root). */
  async listArtifacts(runId: string, path = '', options?: CallOptions): Promise<FileInfo[]> {
    const res = await this.#call<{ files?: FileInfo[] }>({
      ...options,
      method: 'GET',
      path: `${API}/artifacts/list`,
      query: { run_id: runId, path: path || undefined },
    });
    return (res.files ?? []).map((f) => ({ ...f, file_size: f.file_size === undefined ? undefined : Number(f.file_size) }));
  }

  /** Every artifact file of a run (folders walked), with sizes. */
  async listArtifactFiles(runId: string, options?: CallOptions): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    const walk = async (path: string) => {
      for (const entry of await this.listArtifacts(runId, path, options)) {
        if (entry.is_dir) await walk(entry.path);
        else files.push(entry);
      }
    };
    await walk('');
    return files;
  }

  /** Uploads one local file to `artifactPath` (run-relative, '/'-separated) through the server's artifact proxy. */
  async uploadArtifact(artifactUri: string, localFile: string, artifactPath: string, options?: CallOptions): Promise<void> {
    const body = await openAsBlob(localFile);
    await this.#call({
      ...options,
      method: 'PUT',
      path: artifactRequestPath(artifactUri, artifactPath),
      body,
      timeoutMs: this.#artifactTimeoutMs,
    });
  }

  /** Downloads one artifact file's bytes through the server's artifact proxy. */
  async downloadArtifact(artifactUri: string, artifactPath: string, options?: CallOptions): Promise<Buffer> {
    return this.#call<Buffer>({
      ...options,
      method: 'GET',
      path: artifactRequestPath(artifactUri, artifactPath),
      bytes: true,
      timeoutMs: this.#artifactTimeoutMs,
    });
  }

  /** The UI address of a run. */
  runUrl(experimentId: string, runId: string): string {
    return `${this.uri}/#/experiments/${experimentId}/runs/${runId}`;
  }

  async #call<T>(spec: RequestSpec): Promise<T> {
    const policy = spec.retry ?? this.#retry;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.#once(spec)) as T;
      } catch (error) {
        await this.#beforeRetry(error, policy, attempt, spec.method, spec.path, spec.signal);
      }
    }
  }

  /** Rethrows `error` unless it is retryable and retries are left; otherwise waits the backoff. */
  async #beforeRetry(
    error: unknown,
    policy: RetryPolicy,
    attempt: number,
    method: string,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!(error instanceof MlflowError) || !error.retryable || attempt >= policy.retries || signal?.aborted) throw error;
    const delayMs = error.retryAfterMs ?? backoffDelay(policy, attempt);
    this.#onRetry?.({ method, path, attempt: attempt + 1, delayMs, error });
    await sleep(delayMs, signal);
  }

  async #once(spec: RequestSpec): Promise<unknown> {
    const url = new URL(`${this.uri}${spec.path}`);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.connection.headers() };
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = toJson(spec.json);
    } else if (spec.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = spec.body as BodyInit;
    }
    const timeout = AbortSignal.timeout(spec.timeoutMs ?? this.#timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    const what = `${spec.method} ${spec.path.replace(API + '/', '')}`;
    let res: Response;
    try {
      res = await fetch(url, { method: spec.method, headers, body, signal });
    } catch (error) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (timeout.aborted) {
        throw new MlflowError(
          `MLflow at ${this.uri} did not answer ${what} within ${spec.timeoutMs ?? this.#timeoutMs} ms`,
          undefined,
          'TIMEOUT',
          true,
          undefined,
          { cause: error },
        );
      }
      const code = networkCode(error);
      throw new MlflowError(`Cannot reach MLflow at ${this.uri} (${code}) for ${what}`, undefined, 'UNREACHABLE', true, undefined, {
        cause: error,
      });
    }
    let buffer: Buffer;
    try {
      buffer = Buffer.from(await res.arrayBuffer());
    } catch (error) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      throw new MlflowError(
        `MLflow at ${this.uri} broke off its answer to ${what} (${networkCode(error)})`,
        res.status,
        'UNREACHABLE',
        true,
        undefined,
        { cause: error },
      );
    }
    if (!res.ok) throw this.#httpError(res, buffer, what);
    if (spec.bytes) return buffer;
    const text = buffer.toString('utf8');
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new MlflowError(
        `MLflow at ${this.uri} answered ${what} with something that is not JSON: ${this.connection.redact(snippet(text))}`,
        res.status,
        'BAD_RESPONSE',
        false,
      );
    }
  }

  #httpError(res: Response, buffer: Buffer, what: string): MlflowError {
    const text = buffer.toString('utf8');
    let code = `HTTP_${res.status}`;
    let message = snippet(text) || res.statusText || 'no details';
    try {
      const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof parsed.error_code === 'string') code = parsed.error_code;
      if (typeof parsed.message === 'string') message = snippet(parsed.message);
    } catch {
      // A plain-text or HTML body (a proxy, a disabled endpoint): keep its first line.
    }
    const retryable = isRetryableStatus(res.status);
    let hint = '';
    if (res.status === 401 || res.status === 403) {
      hint =
        this.connection.authKind === 'none'
          ? ' The server wants credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.'
          : ' Check MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN.';
    }
    return new MlflowError(
      this.connection.redact(`MLflow at ${this.uri} refused ${what}: HTTP ${res.status} ${code}: ${message}.${hint}`),
      res.status,
      code,
      retryable,
      retryable ? parseRetryAfter(res.headers.get('retry-after')) : undefined,
    );
  }
}

const noRetry: RetryPolicy = { retries: 0, baseDelayMs: 0, maxDelayMs: 0 };

/** The request path of an artifact under a run's `mlflow-artifacts:` root; other roots cannot be proxied. */
export function artifactRequestPath(artifactUri: string, artifactPath: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!match) {
    throw new MlflowError(
      `The run's artifact root is ${artifactUri}, which the runner cannot upload to: it uploads through the ` +
        `server's artifact proxy. Start the server with --serve-artifacts (and no local --default-artifact-root).`,
      undefined,
      'ARTIFACTS_NOT_PROXIED',
      false,
    );
  }
  const segments = [...(match[1] ?? '').split('/'), ...artifactPath.split('/')].filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..') || artifactPath.includes('#') || artifactPath.includes('\\')) {
    throw new MlflowError(
      `MLflow does not take the artifact path "${artifactPath}": no '.' or '..' segments, '#' or '\\'.`,
      undefined,
      'INVALID_ARTIFACT_PATH',
      false,
    );
  }
  return `${ARTIFACTS_API}/${segments.map(encodeURIComponent).join('/')}`;
}

function normalizeRun(raw: unknown): Run {
  const run = raw as { info: RunInfo; data?: { metrics?: Array<Metric & { value: unknown }>; params?: KeyValue[]; tags?: KeyValue[] } };
  return {
    info: run.info,
    data: {
      metrics: (run.data?.metrics ?? []).map((m) => ({
        ...m,
        value: decodeMetricValue(m.value),
        step: Number(m.step ?? 0),
        timestamp: Number(m.timestamp),
      })),
      params: run.data?.params ?? [],
      tags: run.data?.tags ?? [],
    },
  };
}

function snippet(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

function networkCode(error: unknown): string {
  let e: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e instanceof Error && e !== error) message = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  return message;
}
