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

/**
 * Bad input that belongs to one config key (e.g. `data.validation.fraction`): the CLI prints it as
 * a located diagnostic (file:line:col, the key's path, a code frame) like schema errors.
 */
export class ConfigKeyError extends UserError {
  override name = 'ConfigKeyError';
  constructor(
    /** Keys and list indices from the config's root (or from a component's params, until `within` prefixes it). */
    readonly path: (string | number)[],
    message: string,
    /** What would be right, when we can tell. */
    readonly hint?: string,
  ) {
    super(message);
  }

  /** The same problem with `prefix` put before its path (a component's params → the config key holding the component). */
  within(prefix: (string | number)[]): ConfigKeyError {
    const error = new ConfigKeyError([...prefix, ...this.path], this.message, this.hint);
    error.stack = this.stack;
    return error;
  }
}

/** Runs `body`; a UserError it throws (not already tied to a key) becomes a ConfigKeyError at `path`. */
export async function locatedAt<T>(path: (string | number)[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof ConfigKeyError)) {
      const located = new ConfigKeyError(path, error.message);
      located.stack = error.stack;
      throw located;
    }
    throw error;
  }
}
