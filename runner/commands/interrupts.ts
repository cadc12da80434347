import type { Progress } from '../progress.ts';

/**
 * Runs `body` with Ctrl-C / SIGTERM turned into an abort signal: the first stops the work cleanly
 * (the run ends KILLED), a second Ctrl-C exits at once.
 */
export async function withInterrupts<T>(progress: Progress, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      progress.warn(`second ${signal}: exiting now`);
      process.exit(130);
    }
    progress.warn(`${signal}: stopping after the current step (press Ctrl-C again to exit at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
