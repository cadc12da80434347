/**
 * The process of one trial (`runner sweep --worker`): it loads the runner and the TensorFlow backend first, then
 * waits for its job (one IPC message: what to run and the parent run) and runs it, sending the run's folder, MLflow
 * run, metrics and end back over the same channel (see run/run-events.ts). A sweep starts the next trial's process
 * while the current ones train, so the start-up (about 2 s of imports and native library loading) overlaps training
 * instead of adding to every trial.
 *
 * The channel closing (the sweep process is gone) stops the run like Ctrl-C: it ends KILLED, with its metrics on disk.
 */
import type { Device } from '../backend/select.ts';
import { reportError } from '../report-error.ts';
import type { RunEvent } from '../run/run-events.ts';
import type { RunRequest } from '../run/run-config.ts';

/** The job a worker is given. */
export interface WorkerJob {
  type: 'job';
  /** What to run: a trial's config file, or the folder of its interrupted run. */
  request: RunRequest;
  /** The sweep's parent run, which the trial's run is nested under. */
  parent_run_id?: string;
}

/** What a worker sends before its job: it listens (a job sent earlier would be lost). */
export interface WorkerReady {
  type: 'ready';
}

/** Runs a worker: preload for `device`, wait for the job, run it; resolves to the exit code. */
export async function runWorker(device: Device, options: { debug?: boolean } = {}): Promise<number> {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('runner: `runner sweep --worker` is started by a sweep, with an IPC channel\n');
    return 2;
  }
  const waiting = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', waiting);
  process.on('SIGTERM', waiting);
  const channel = watchChannel();
  send({ type: 'ready' } satisfies WorkerReady);
  const { runConfig } = await import('../run/run-config.ts');
  const { Progress } = await import('../progress.ts');
  const { selectBackend } = await import('../backend/select.ts');
  await selectBackend(device, { warn: () => {} }).catch(() => {}); // the run reports it properly
  const { validateExperiment } = await import('../config/validate.ts');
  validateExperiment({}, () => process.cwd()); // compiles the config validator (about half a second) ahead
  const job = await channel.job;
  process.off('SIGINT', waiting);
  process.off('SIGTERM', waiting);
  if (job === undefined || channel.ended) return 0; // not needed after all, or the sweep is gone
  let running = true;
  let gone = false;
  const sweepGone = () => {
    if (gone) return;
    gone = true;
    if (running) process.kill(process.pid, 'SIGTERM'); // stops the run after its current step: KILLED
  };
  channel.onEnd(sweepGone);
  // With the sweep gone, writing to stdout and stderr fails (EPIPE), maybe before the channel's end is seen: that
  // must not crash the run while it ends cleanly.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', sweepGone);
  let sent: Promise<void> = Promise.resolve();
  const report = (event: RunEvent) => {
    if (gone || !process.connected) return;
    sent = new Promise((resolve) => send(event, undefined, {}, () => resolve()));
  };
  let code = 1;
  try {
    const progress = new Progress(process.stderr, { quiet: false });
    code = (await runConfig(job.request, { progress, parentRunId: job.parent_run_id, events: report })).exitCode;
    return code;
  } catch (error) {
    reportError(error, options.debug ?? false); // runConfig has reported it as the run's end
    code = (error as { exitCode?: number }).exitCode ?? 1;
    return code;
  } finally {
    running = false;
    // The run is over: a stop request now must not turn its exit into a death by signal.
    process.on('SIGTERM', () => {});
    process.on('SIGINT', () => {});
    // The run is over and written (stdout/stderr are pipes, written synchronously): once its end is sent (messages
    // go in order), end now rather than wait for the event loop to drain.
    await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    setImmediate(() => process.exit(code));
  }
}

/** Listens on the IPC channel: the job, and whether (and when) the channel closes. */
function watchChannel(): { job: Promise<WorkerJob | undefined>; readonly ended: boolean; onEnd(listener: () => void): void } {
  let ended = false;
  let found = false;
  let listener: (() => void) | undefined;
  let resolveJob!: (job: WorkerJob | undefined) => void;
  const job = new Promise<WorkerJob | undefined>((resolve) => (resolveJob = resolve));
  process.on('message', (message: unknown) => {
    if (found || (message as { type?: unknown } | null)?.type !== 'job') return;
    found = true;
    resolveJob(message as WorkerJob);
  });
  process.once('disconnect', () => {
    if (ended) return;
    ended = true;
    if (!found) resolveJob(undefined);
    listener?.();
  });
  return {
    job,
    get ended() {
      return ended;
    },
    onEnd(callback) {
      listener = callback;
    },
  };
}
