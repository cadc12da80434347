/** Exit code of work stopped by Ctrl-C (128 + SIGINT). */
export const KILLED_EXIT_CODE = 130;
/** Exit code of work stopped by SIGTERM (128 + 15), as shells and Kubernetes expect. */
export const TERMINATED_EXIT_CODE = 143;

/** The exit code of work stopped by `signal` (an abort reason from withInterrupts): 143 for SIGTERM, else 130. */
export function interruptedExitCode(signal: AbortSignal | NodeJS.Signals | undefined): number {
  const name = signal instanceof AbortSignal ? signal.reason : signal;
  return name === 'SIGTERM' ? TERMINATED_EXIT_CODE : KILLED_EXIT_CODE;
}

/**
 * Runs `body` with Ctrl-C / SIGTERM turned into an abort signal: the first stops the work cleanly
 * (runs end KILLED), a second one exits at once. `warn` prints the notices; `stopping` says what
 * the first signal does. The signal's reason is the name of the signal that stopped the work.
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
      process.exit(interruptedExitCode(signal));
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
