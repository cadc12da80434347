import { Type, type StringOptions, type TString } from '@sinclair/typebox';

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
