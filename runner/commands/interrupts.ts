/** Exit code of work stopped by Ctrl-C or SIGTERM (128 + SIGINT). */
export const KILLED_EXIT_CODE = 130;

/**
 * Runs `body` with Ctrl-C / SIGTERM turned into an abort signal: the first stops the work cleanly
 * (runs end KILLED), a second one exits at once. `warn` prints the notices; `stopping` says what
 * the first signal does.
 */
export async function withInterrupts<T>(
  warn: (message: string) => void,
  body: (signal: AbortSignal) => Promise<T>,
  stopping = 'stopping after the current step (press Ctrl-C again to exit at once)',
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      warn(`second ${signal}: exiting now`);
      process.exit(KILLED_EXIT_CODE);
    }
    warn(`${signal}: ${stopping}`);
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
