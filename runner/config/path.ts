import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { Type, type StringOptions, type TString } from '@sinclair/typebox';
import type { ConfigIssue, ConfigPath } from './issues.ts';

/** JSON Schema keyword that marks a string as a file path or URL, resolved when the config loads. */
export const PATH_KEYWORD = 'x-path';

/**
 * A file path (or http/https/file URL) in a config. Relative paths resolve against the folder of
 * the config file that wrote them (the working directory for `--set`); URLs stay as they are.
 */
export function FilePath(options: StringOptions = {}): TString {
  return Type.String({ minLength: 1, ...options, [PATH_KEYWORD]: true });
}

/** True for strings the runner treats as URLs rather than file paths. */
export function isUrl(value: string): boolean {
  return /^(https?|file):\/\//i.test(value);
}

/** What a path in a config must name: a file, a folder, or either. */
export type PathKind = 'file' | 'folder' | 'any';

/**
 * The problem with the local path `value` of the key at `path` (relative to a component's params), or [] when it
 * exists, is a `kind` and can be read; URLs are not checked (they are fetched when the run starts).
 */
export function pathIssues(value: string, path: ConfigPath, what: string, kind: PathKind = 'any'): ConfigIssue[] {
  if (isUrl(value)) return [];
  let stats: Stats;
  try {
    stats = statSync(value);
  } catch {
    return [{ path, message: `${what} ${value} does not exist.` }];
  }
  if (kind === 'file' && stats.isDirectory()) return [{ path, message: `${what} ${value} is a folder; a file is expected.` }];
  if (kind === 'folder' && !stats.isDirectory()) return [{ path, message: `${what} ${value} is not a folder.` }];
  try {
    accessSync(value, stats.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch {
    return [{ path, message: `${what} ${value} cannot be read (permission denied).` }];
  }
  return [];
}
