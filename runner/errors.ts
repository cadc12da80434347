/** Bad input of any kind (config, data, CLI usage): printed as one clear paragraph, exit code 2. */
export class UserError extends Error {
  override name = 'UserError';
  /** Exit code the CLI ends with when this error reaches it. */
  readonly exitCode: number = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A run that started but could not finish (e.g. the loss became NaN): exit code 1. */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
  /** Exit code the CLI ends with when this error reaches it. */
  readonly exitCode: number = 1;
}

/** Exit code for an error: its own when it carries one, else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' ? code : 1;
}
