/** Runs trials as separate `runner` processes, at most max_parallel at a time, with the next one warmed up ahead. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '../backend/select.ts';
import type { SweepFolder } from './folder.ts';
import { readJson } from './folder.ts';
import { isRunEvent, type EndEvent, type RunEvent } from '../run/run-events.ts';
import type { TrialProgress } from './state.ts';
import type { WorkerJob } from './worker.ts';

/** bin/runner.js of this checkout. */
export const RUNNER_BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));

/** Options of a TrialPool. */
export interface PoolOptions {
  /** Where run folders go (passed to `runner run --runs-dir`). */
  runsDir: string;
  /** The sweep folder of a trial: its config and log go there. */
  folderFor: (progress: TrialProgress) => SweepFolder;
  /** Most trials training at once. */
  maxParallel: number;
  /** Stop everything after the first failed trial. */
  failFast: boolean;
  /** Start the next trial's process while others train (it loads the runner and TensorFlow, then waits). */
  prewarm: boolean;
  /** Keep one warmed-up process ready even with nothing pending (watch mode: fast restarts). */
  keepWarm?: boolean;
  /** Name of the metric followed in the live table. */
  metric: string;
  /** Environment of each trial process, fixed when it starts (thread settings must be set before TensorFlow loads). */
  processEnv: (spawnIndex: number, device: Device) => Record<string, string>;
  /** The MLflow run a trial's run is nested under (the sweep's parent), sent with its job. */
  parentRunId: (progress: TrialProgress) => string | undefined;
  /** Called whenever something shown in the live table changed. */
  onChange: () => void;
  /** Called when a trial's process ended and its state is known (MLflow bookkeeping); errors are logged. */
  onTrialEnd?: (progress: TrialProgress) => Promise<void>;
  /** Lines for people (fail_fast, kills). */
  log: (line: string) => void;
  /** How long a stopped trial may take to end cleanly before it is killed (default 60 s). */
  killGraceMs?: number;
  /** The runner executable (default bin/runner.js of this checkout). */
  bin?: string;
}

interface Worker {
  child: ChildProcess;
  device: Device;
  spawnedAt: number;
  /** Output before the worker got its trial (kept for the trial's log). */
  buffered: Buffer[];
  bufferedBytes: number;
  progress?: TrialProgress;
  log?: WriteStream;
  /** True once the process listens for its job (it says so over the channel). */
  ready: boolean;
  /** The job, until the process is ready for it. */
  job?: WorkerJob;
  /** How its run ended, as the process reported it. */
  end?: EndEvent;
  stopRequested: boolean;
  killTimer?: NodeJS.Timeout;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const MAX_BUFFERED = 256 * 1024;

/** A pool of trial processes. add() trials, cancel() some, stopAll(), await drained(), close(). */
export class TrialPool {
  #options: PoolOptions;
  readonly #items: TrialProgress[] = [];
  readonly #running = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #ending = new Set<Promise<void>>();
  #drainWaiters: (() => void)[] = [];
  #stopping = false;
  #failedFast = false;
  #spawned = 0;
  #closed = false;
  readonly #timer: NodeJS.Timeout;

  constructor(options: PoolOptions) {
    this.#options = { ...options };
    this.#timer = setInterval(() => this.#running.size > 0 && this.#options.onChange(), 1000); // elapsed times
    this.#timer.unref();
  }

  /** True once fail_fast stopped the pool after a failure. */
  get failedFast(): boolean {
    return this.#failedFast;
  }

  /** Changes how many trials may train at once (watch mode, after an edit). */
  setMaxParallel(maxParallel: number): void {
    this.#options.maxParallel = maxParallel;
    this.#schedule();
  }

  /** Changes the metric followed for the live table (watch mode, after an edit). */
  setMetric(metric: string): void {
    this.#options.metric = metric;
  }

  /** True after stopAll(). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Processes of running trials (pid), for tests and the state file. */
  get runningPids(): number[] {
    return [...this.#running].map((w) => w.child.pid ?? -1);
  }

  /** Queues trials (state pending) and starts what fits. */
  add(items: TrialProgress[]): void {
    for (const item of items) {
      if (!this.#items.includes(item)) this.#items.push(item);
    }
    this.#schedule();
  }

  /** Cancels pending trials and stops running ones (they end KILLED) for which `which` is true. */
  cancel(which: (progress: TrialProgress) => boolean): void {
    for (const item of this.#items) {
      if (item.state === 'pending' && which(item)) item.state = 'cancelled';
    }
    for (const worker of this.#running) {
      if (worker.progress && which(worker.progress)) this.#stop(worker);
    }
    this.#options.onChange();
    this.#checkDrained();
  }

  /** Stops everything: pending trials are cancelled, running ones stopped cleanly (KILLED). */
  stopAll(): void {
    this.#stopping = true;
    this.cancel(() => true);
    this.#closeIdle();
  }

  /** Resolves when no trial is pending or running. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#checkDrained();
    });
  }

  /** Ends the warmed-up processes and the metrics timer (after drained()). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#closeIdle();
    await Promise.all([...this.#running].map((w) => w.exited));
  }

  #schedule(): void {
    if (this.#closed) return;
    if (!this.#stopping) {
      for (const item of this.#items) {
        if (this.#running.size >= this.#options.maxParallel) break;
        if (item.state === 'pending') this.#start(item);
      }
    }
    this.#warmUp();
    this.#checkDrained();
  }

  /** Keeps one idle process ready for the next pending trial (or for what may come, with keepWarm). */
  #warmUp(): void {
    if (this.#stopping || this.#closed || !this.#options.prewarm) return;
    // With every core taken by a trial, not while trials are starting: their start-up has the CPU first (this is
    // called again when they run). With a core to spare (max_parallel 1 on 2 cores), at once.
    const starting = [...this.#running].some((w) => w.progress?.state === 'starting');
    if (starting && this.#running.size >= availableParallelism()) return;
    const pending = this.#items.filter((item) => item.state === 'pending');
    // As many as could start at once when the running trials end (each idle one waits, using memory only).
    const wanted = pending.length > 0 ? Math.min(pending.length, this.#options.maxParallel) : this.#options.keepWarm ? 1 : 0;
    while (this.#idle.length < wanted) {
      const device = pending[this.#idle.length]?.trial.config.train.device ?? this.#lastDevice();
      if (device === undefined) return;
      this.#idle.push(this.#spawn(device));
    }
  }

  #lastDevice(): Device | undefined {
    return this.#items.at(-1)?.trial.config.train.device;
  }

  #start(item: TrialProgress): void {
    const device = item.trial.config.train.device;
    const index = this.#idle.findIndex((w) => w.device === device && w.child.exitCode === null && w.child.signalCode === null);
    const worker = index >= 0 ? this.#idle.splice(index, 1)[0]! : this.#spawn(device);
    const { runsDir } = this.#options;
    const folder = this.#options.folderFor(item);
    const configFile = folder.writeTrialConfig(item.trial);
    Object.assign(item, {
      state: 'starting',
      startedAt: Date.now(),
      endedAt: undefined,
      epoch: undefined,
      metric: undefined,
      metrics: undefined,
      runDir: undefined,
      runId: undefined,
      mlflowRunId: undefined,
      exit: undefined,
      error: undefined,
      stopped: undefined,
      logFile: folder.logFile(item.trial),
      pid: worker.child.pid,
    } satisfies Partial<TrialProgress>);
    worker.progress = item;
    worker.log = createWriteStream(item.logFile!, { flags: 'w' });
    worker.log.on('error', () => {});
    // An interrupted run of this trial continues in its own folder from its checkpoint.
    const argv = item.resumeDir ? ['run', '--resume', item.resumeDir] : ['run', configFile, '--runs-dir', runsDir];
    if (item.resumeDir) Object.assign(item, { runDir: item.resumeDir, runId: basename(item.resumeDir), state: 'running' });
    worker.log.write(`# trial ${item.trial.index}: ${item.trial.label}\n# runner ${argv.join(' ')}\n`);
    for (const chunk of worker.buffered) this.#output(worker, chunk);
    worker.buffered = [];
    const parentRunId = this.#options.parentRunId(item);
    worker.job = {
      type: 'job',
      request: item.resumeDir ? { resume: item.resumeDir } : { config: configFile, runsDir },
      ...(parentRunId && { parent_run_id: parentRunId }),
    };
    this.#sendJob(worker);
    this.#running.add(worker);
    void worker.exited.then((exit) => {
      const ending = this.#finish(worker, exit);
      this.#ending.add(ending);
      void ending.finally(() => {
        this.#ending.delete(ending);
        this.#schedule();
      });
    });
    this.#options.onChange();
  }

  #spawn(device: Device): Worker {
    const spawnIndex = this.#spawned++;
    const env = { ...process.env, ...this.#options.processEnv(spawnIndex, device), NO_COLOR: '1' };
    const child = spawn(process.execPath, [this.#options.bin ?? RUNNER_BIN, 'sweep', '--worker', '--device', device], {
      cwd: process.cwd(),
      env,
      detached: true, // its own process group: a terminal's Ctrl-C reaches the sweep only, which stops each trial once
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'], // what the trial reports comes as messages on the IPC channel
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: 127, signal: null }));
    });
    const worker: Worker = {
      child,
      device,
      spawnedAt: Date.now(),
      buffered: [],
      bufferedBytes: 0,
      ready: false,
      stopRequested: false,
      exited,
    };
    child.on('error', () => {}); // a worker that died: its exit says why
    child.on('message', (message: unknown) => this.#message(worker, message));
    const onData = (chunk: Buffer) => {
      if (worker.progress) this.#output(worker, chunk);
      else if (worker.bufferedBytes < MAX_BUFFERED) {
        worker.buffered.push(chunk);
        worker.bufferedBytes += chunk.length;
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      const idle = this.#idle.indexOf(worker);
      if (idle >= 0) this.#idle.splice(idle, 1);
      if (worker.killTimer) clearTimeout(worker.killTimer);
    });
    return worker;
  }

  /** Output of a trial's process (for people): to its log. */
  #output(worker: Worker, chunk: Buffer): void {
    worker.log?.write(chunk);
  }

  /** Hands a worker its job once it listens. */
  #sendJob(worker: Worker): void {
    if (!worker.ready || !worker.job || !worker.child.connected) return;
    worker.child.send(worker.job, (error) => error && this.#options.log(`could not hand a trial its job: ${error.message}`));
    worker.job = undefined;
  }

  /** A message of a trial's process: it is ready, or what its run reports (folder, MLflow run, metrics, end). */
  #message(worker: Worker, message: unknown): void {
    if ((message as { type?: unknown } | null)?.type === 'ready') {
      worker.ready = true;
      this.#sendJob(worker);
      return;
    }
    const item = worker.progress;
    if (!item || !isRunEvent(message)) return;
    this.#event(worker, item, message);
  }

  #event(worker: Worker, item: TrialProgress, event: RunEvent): void {
    switch (event.type) {
      case 'run_folder':
        item.runId = event.run_id;
        item.runDir = event.run_dir;
        if (item.state === 'starting') item.state = 'running';
        this.#warmUp();
        break;
      case 'tracked':
        item.mlflowRunId = event.mlflow_run_id;
        break;
      case 'metrics': {
        // best_<monitor> comes once, at the end; while the trial trains, follow the monitored metric itself.
        const { metric } = this.#options;
        const value = event.metrics[metric] ?? event.metrics[metric.replace(/^best_/, '')];
        if (typeof value === 'number') item.metric = value;
        if (event.epoch_end && event.epoch !== undefined) item.epoch = event.epoch;
        break;
      }
      case 'end':
        worker.end = event;
        break;
    }
    this.#options.onChange();
  }

  #stop(worker: Worker): void {
    if (worker.stopRequested) return;
    worker.stopRequested = true;
    const pid = worker.child.pid;
    if (!pid || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
    try {
      worker.child.kill('SIGTERM'); // the run stops after its current step and ends KILLED
    } catch {
      // already gone
    }
    worker.killTimer = setTimeout(() => {
      this.#options.log(
        `trial ${worker.progress?.trial.index} did not stop within ${Math.round((this.#options.killGraceMs ?? 60_000) / 1000)} s; killing it`,
      );
      killGroup(pid, 'SIGKILL');
    }, this.#options.killGraceMs ?? 60_000);
    worker.killTimer.unref();
  }

  async #finish(worker: Worker, exit: { code: number | null; signal: NodeJS.Signals | null }): Promise<void> {
    this.#running.delete(worker);
    const item = worker.progress!;
    worker.log?.end();
    item.exit = exit.code ?? exit.signal;
    item.endedAt = Date.now();
    item.pid = undefined;
    // How the run ended, as the trial reported it; a process that died before it could say: its run folder's summary.
    const summary = item.runDir
      ? readJson<{ status?: string; error?: { message?: string } }>(join(item.runDir, 'summary.json'))
      : undefined;
    const end: Pick<EndEvent, 'status' | 'metrics' | 'mlflow_run_id' | 'error'> | undefined =
      worker.end ??
      (summary?.status
        ? { status: summary.status as EndEvent['status'], metrics: {}, error: summary.error as EndEvent['error'] }
        : undefined);
    if (end?.mlflow_run_id) item.mlflowRunId = end.mlflow_run_id;
    if (!item.mlflowRunId && item.runDir) item.mlflowRunId = readJson<{ run_id?: string }>(join(item.runDir, 'tracking.json'))?.run_id;
    if (worker.end) {
      item.metrics = worker.end.metrics;
      const value = worker.end.metrics[this.#options.metric];
      if (typeof value === 'number') item.metric = value;
    } else if (summary) {
      const metrics = readJson<{ metrics?: Record<string, number> }>(join(item.runDir!, 'summary.json'))?.metrics;
      if (metrics) item.metrics = metrics;
      if (typeof metrics?.[this.#options.metric] === 'number') item.metric = metrics[this.#options.metric];
    }
    const killedExit = exit.signal !== null || exit.code === 130 || exit.code === 143;
    // A run that ended FINISHED finished, even if a signal reached its process while it was exiting.
    if (end?.status === 'FINISHED') item.state = 'finished';
    else if (end?.status === 'KILLED' || (worker.stopRequested && end?.status !== 'FAILED') || (!end && killedExit)) item.state = 'killed';
    else item.state = 'failed';
    if (item.state === 'failed')
      item.error =
        end?.error?.message ?? `its process ended with ${exit.signal ?? `exit code ${exit.code}`} before its run could report how it ended`;
    if (worker.stopRequested) item.stopped = true;
    if (item.state === 'killed' && !worker.stopRequested)
      item.error = `its process was stopped from outside (${exit.signal ?? `exit code ${exit.code}`})`;
    if ((item.state === 'failed' || (item.state === 'killed' && !worker.stopRequested)) && this.#options.failFast && !this.#stopping) {
      this.#failedFast = true;
      this.#options.log(`trial ${item.trial.index} ${item.state}; fail_fast is on, so the other trials are cancelled`);
      this.stopAll();
    }
    this.#schedule(); // the slot is free: the next trial starts while this one's run is tagged
    try {
      await this.#options.onTrialEnd?.(item);
    } catch (error) {
      this.#options.log(`trial ${item.trial.index}: ${(error as Error).message}`);
    }
    this.#options.onChange();
  }

  #closeIdle(): void {
    for (const worker of this.#idle.splice(0)) {
      if (worker.child.connected) worker.child.disconnect(); // it exits without running anything
      const pid = worker.child.pid;
      setTimeout(() => pid && killGroup(pid, 'SIGKILL'), 10_000).unref();
    }
  }

  #checkDrained(): void {
    const busy = this.#running.size > 0 || this.#ending.size > 0 || (!this.#stopping && this.#items.some((i) => i.state === 'pending'));
    if (busy) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}
