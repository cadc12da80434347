/**
 * The process of one trial (`runner sweep --worker`): it loads the runner and the TensorFlow backend first, then
 * waits for its job on stdin (one JSON line: the `runner` arguments and extra environment) and runs it. A sweep
 * starts the next trial's process while the current ones train, so the start-up (about 2 s of imports and native
 * library loading) overlaps training instead of adding to every trial.
 *
 * stdin closing (the sweep process is gone) stops the run like Ctrl-C: it ends KILLED, with its metrics on disk.
 */
import type { Device } from '../backend/select.ts';

/** The job a worker is given. */
export interface WorkerJob {
  /** Arguments of `runner` (e.g. ['run', 'trials/003.yaml', '--runs-dir', 'runs']). */
  argv: string[];
  /** Environment set before the job runs (e.g. RUNNER_PARENT_RUN_ID, MLFLOW_TRACKING_URI). */
  env?: Record<string, string>;
}

/** Runs a worker: preload for `device`, wait for the job, run it; resolves to the exit code. */
export async function runWorker(device: Device): Promise<number> {
  const waiting = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', waiting);
  process.on('SIGTERM', waiting);
  const input = watchStdin();
  const cli = await import('../cli.ts');
  const { selectBackend } = await import('../backend/select.ts');
  await selectBackend(device, { warn: () => {} }).catch(() => {}); // the run reports it properly
  const { validateExperiment } = await import('../config/validate.ts');
  validateExperiment({}, () => process.cwd()); // compiles the config validator (about half a second) ahead
  const line = await input.firstLine;
  process.off('SIGINT', waiting);
  process.off('SIGTERM', waiting);
  if (line === undefined || input.ended) return 0; // not needed after all, or the sweep is gone
  let job: WorkerJob;
  try {
    job = JSON.parse(line) as WorkerJob;
  } catch {
    process.stderr.write(`runner: a sweep worker got a job it cannot read: ${line.slice(0, 200)}\n`);
    return 2;
  }
  Object.assign(process.env, job.env ?? {});
  let running = true;
  let gone = false;
  const sweepGone = () => {
    if (gone) return;
    gone = true;
    if (running) process.kill(process.pid, 'SIGTERM'); // stops the run after its current step: KILLED
  };
  input.onEnd(sweepGone);
  // With the sweep gone, writing to stdout and stderr fails (EPIPE), maybe before stdin's end is seen: that
  // must not crash the run while it ends cleanly.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', sweepGone);
  let code = 1;
  try {
    code = await cli.main(job.argv);
    return code;
  } finally {
    running = false;
    // The run is over: a stop request now must not turn its exit into a death by signal.
    process.on('SIGTERM', () => {});
    process.on('SIGINT', () => {});
    process.stdin.destroy();
    // The run is over and written (stdout/stderr are pipes, written synchronously): end now rather than
    // wait for the event loop to drain.
    setImmediate(() => process.exit(code));
  }
}

/** Reads stdin: its first line, and whether (and when) it ends. */
function watchStdin(): { firstLine: Promise<string | undefined>; readonly ended: boolean; onEnd(listener: () => void): void } {
  let buffer = '';
  let ended = false;
  let found = false;
  let listener: (() => void) | undefined;
  let resolveLine!: (line: string | undefined) => void;
  const firstLine = new Promise<string | undefined>((resolve) => (resolveLine = resolve));
  process.stdin.on('data', (chunk: Buffer) => {
    if (found) return;
    buffer += chunk.toString('utf8');
    const newline = buffer.indexOf('\n');
    if (newline >= 0) {
      found = true;
      resolveLine(buffer.slice(0, newline));
    }
  });
  const end = () => {
    if (ended) return;
    ended = true;
    if (!found) resolveLine(undefined);
    listener?.();
  };
  process.stdin.once('end', end);
  process.stdin.once('close', end);
  return {
    firstLine,
    get ended() {
      return ended;
    },
    onEnd(callback) {
      listener = callback;
    },
  };
}
