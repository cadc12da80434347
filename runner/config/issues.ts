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
