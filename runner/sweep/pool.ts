/** Runs trials as separate `runner` processes, at most max_parallel at a time, with the next one warmed up ahead. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, fstatSync, openSync, readSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '../backend/select.ts';
import type { SweepFolder } from './folder.ts';
import { readJson } from './folder.ts';
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
  /** Environment set when a trial is handed to its process (parent run id, tracking URI). */
  jobEnv: (progress: TrialProgress) => Record<string, string>;
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
  partialLine: string;
  tail: string[];
  stopRequested: boolean;
  killTimer?: NodeJS.Timeout;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How far metrics.jsonl of a running trial has been read. */
interface MetricsCursor {
  offset: number;
  rest: string;
}

const MAX_BUFFERED = 256 * 1024;

/** A pool of trial processes. add() trials, cancel() some, stopAll(), await drained(), close(). */
export class TrialPool {
  #options: PoolOptions;
  readonly #items: TrialProgress[] = [];
  readonly #running = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #cursors = new Map<TrialProgress, MetricsCursor>();
  readonly #ending = new Set<Promise<void>>();
  #drainWaiters: (() => void)[] = [];
  #stopping = false;
  #failedFast = false;
  #spawned = 0;
  #closed = false;
  readonly #timer: NodeJS.Timeout;

  constructor(options: PoolOptions) {
    this.#options = { ...options };
    this.#timer = setInterval(() => this.#pollMetrics(), 1000);
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
      logFile: folder.logFile(item.trial),
      pid: worker.child.pid,
    } satisfies Partial<TrialProgress>);
    this.#cursors.delete(item);
    worker.progress = item;
    worker.log = createWriteStream(item.logFile!, { flags: 'w' });
    worker.log.on('error', () => {});
    // An interrupted run of this trial continues in its own folder from its checkpoint.
    const argv = item.resumeDir ? ['run', '--resume', item.resumeDir] : ['run', configFile, '--runs-dir', runsDir];
    if (item.resumeDir) Object.assign(item, { runDir: item.resumeDir, runId: basename(item.resumeDir), state: 'running' });
    worker.log.write(`# trial ${item.trial.index}: ${item.trial.label}\n# runner ${argv.join(' ')}\n`);
    for (const chunk of worker.buffered) this.#output(worker, chunk);
    worker.buffered = [];
    const job: WorkerJob = { argv, env: this.#options.jobEnv(item) };
    worker.child.stdin?.write(JSON.stringify(job) + '\n');
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
      stdio: ['pipe', 'pipe', 'pipe'],
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
      partialLine: '',
      tail: [],
      stopRequested: false,
      exited,
    };
    child.stdin?.on('error', () => {}); // a worker that died: its exit says why
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

  /** Output of a trial's process: to its log; `run <id>: <dir>` tells where its run folder is. */
  #output(worker: Worker, chunk: Buffer): void {
    worker.log?.write(chunk);
    const text = worker.partialLine + chunk.toString('utf8');
    const lines = text.split('\n');
    worker.partialLine = lines.pop() ?? '';
    const item = worker.progress!;
    for (const raw of lines) {
      const line = raw.replace(/\r/g, '');
      if (line.trim() === '') continue;
      worker.tail.push(line);
      if (worker.tail.length > 40) worker.tail.shift();
      const run = /^run (\S+): (\/.+)$/.exec(line);
      if (run && item.runDir === undefined) {
        item.runId = run[1];
        item.runDir = run[2];
        if (item.state === 'starting') item.state = 'running';
        this.#warmUp();
        this.#options.onChange();
      }
      const tracked = /^tracking: run ([0-9a-f]{32}) in experiment/.exec(line);
      if (tracked) item.mlflowRunId = tracked[1];
    }
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
    if (worker.partialLine) this.#output(worker, Buffer.from('\n'));
    worker.log?.end();
    this.#readMetrics(item);
    this.#cursors.delete(item);
    item.exit = exit.code ?? exit.signal;
    item.endedAt = Date.now();
    item.pid = undefined;
    const summary = item.runDir
      ? readJson<{ status?: string; metrics?: Record<string, number>; mlflow_run_id?: string | null }>(join(item.runDir, 'summary.json'))
      : undefined;
    if (summary?.mlflow_run_id) item.mlflowRunId = summary.mlflow_run_id;
    if (!item.mlflowRunId && item.runDir) item.mlflowRunId = readJson<{ run_id?: string }>(join(item.runDir, 'tracking.json'))?.run_id;
    if (summary?.metrics) {
      item.metrics = summary.metrics;
      const value = summary.metrics[this.#options.metric];
      if (typeof value === 'number') item.metric = value;
    }
    const killedExit = exit.signal !== null || exit.code === 130 || exit.code === 143;
    // A run that wrote FINISHED finished, even if a signal reached its process while it was exiting.
    if (summary?.status === 'FINISHED') item.state = 'finished';
    else if (
      summary?.status === 'KILLED' ||
      (worker.stopRequested && (summary === undefined || summary.status !== 'FAILED')) ||
      (!summary && killedExit)
    )
      item.state = 'killed';
    else item.state = 'failed';
    if (item.state === 'failed') item.error = errorLine(worker.tail) ?? `its process ended with ${exit.signal ?? `exit code ${exit.code}`}`;
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

  #pollMetrics(): void {
    let changed = false;
    for (const worker of this.#running) {
      if (worker.progress && this.#readMetrics(worker.progress)) changed = true;
    }
    if (changed || this.#running.size > 0) this.#options.onChange();
  }

  /** Reads what is new in the trial's metrics.jsonl: last epoch, latest value of the metric. */
  #readMetrics(item: TrialProgress): boolean {
    if (!item.runDir) return false;
    const cursor = this.#cursors.get(item) ?? { offset: 0, rest: '' };
    this.#cursors.set(item, cursor);
    let fd: number;
    try {
      fd = openSync(join(item.runDir, 'metrics.jsonl'), 'r');
    } catch {
      return false;
    }
    let changed = false;
    try {
      const size = fstatSync(fd).size;
      if (size <= cursor.offset) return false;
      const buffer = Buffer.alloc(Math.min(size - cursor.offset, 8 * 1024 * 1024));
      const read = readSync(fd, buffer, 0, buffer.length, cursor.offset);
      cursor.offset += read;
      const lines = (cursor.rest + buffer.subarray(0, read).toString('utf8')).split('\n');
      cursor.rest = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const record = JSON.parse(line) as { epoch?: number; metrics?: Record<string, number> };
          // best_<monitor> comes once, at the end; while the trial trains, follow the monitored metric itself.
          const value = record.metrics?.[this.#options.metric] ?? record.metrics?.[this.#options.metric.replace(/^best_/, '')];
          if (typeof value === 'number') {
            item.metric = value;
            changed = true;
          }
          if (typeof record.epoch === 'number' && record.metrics && 'epoch_time_s' in record.metrics) {
            item.epoch = record.epoch;
            changed = true;
          }
        } catch {
          // a torn line: skip
        }
      }
    } finally {
      closeSync(fd);
    }
    return changed;
  }

  #closeIdle(): void {
    for (const worker of this.#idle.splice(0)) {
      worker.child.stdin?.end(); // it exits without running anything
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

/** The line of a trial's output that says why it failed. */
function errorLine(tail: string[]): string | undefined {
  const failed = [...tail].reverse().find((line) => /^(warning: )?run \S+ failed: /.test(line));
  if (failed) return failed.replace(/^(warning: )?/, '');
  const runner = [...tail].reverse().find((line) => line.startsWith('runner: '));
  if (runner) return runner.slice('runner: '.length);
  const error = [...tail].reverse().find((line) => / error /.test(line) || /Error/.test(line));
  return error;
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
