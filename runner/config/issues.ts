import { UserError } from '../errors.ts';

/** A location in the config tree: keys and list indices from the root. */
export type ConfigPath = (string | number)[];

/** One problem with a config, tied to where it is. */
export interface ConfigIssue {
  /** Where in the config tree (relative to its root). */
  path: ConfigPath;
  /** What is wrong, in a sentence. */
  message: string;
  /** What would be right, when we can tell. */
  hint?: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
  /** A warning does not stop the run. */
  severity?: 'error' | 'warning';
}

/** Config problems found after loading (e.g. while building components), located by the CLI. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('\n'));
  }
}

/** `optimizer.param_groups[1].lr_mult` for ['optimizer', 'param_groups', 1, 'lr_mult']. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text === '' ? key : `.${key}`;
  return text === '' ? '(top level)' : text;
}

/**
 * Bad input that belongs to one config key (e.g. `data.validation.fraction`): a ConfigError of one issue, which the
 * CLI prints as a located diagnostic (file:line:col, the key's path, a code frame) like schema errors.
 */
export class ConfigKeyError extends ConfigError {
  override name = 'ConfigKeyError';
  constructor(
    /** Keys and list indices from the config's root (or from a component's params, until `within` prefixes it). */
    readonly path: ConfigPath,
    message: string,
    /** What would be right, when we can tell. */
    readonly hint?: string,
  ) {
    super([{ path, message, hint }]);
    this.message = message;
  }

  /** The same problem with `prefix` put before its path (a component's params → the config key holding the component). */
  within(prefix: ConfigPath): ConfigKeyError {
    const error = new ConfigKeyError([...prefix, ...this.path], this.message, this.hint);
    error.stack = this.stack;
    return error;
  }
}

/** Runs `body`; a UserError it throws (not already tied to a key) becomes a ConfigKeyError at `path`. */
export async function locatedAt<T>(path: ConfigPath, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof ConfigError)) {
      const located = new ConfigKeyError(path, error.message);
      located.stack = error.stack;
      throw located;
    }
    throw error;
  }
}
