/** Dotted config paths (`optimizer.lr`, `model.kernel_sizes.0`) as used for sweep keys. */

/** A dotted config path: an identifier, then `.`-separated keys or list indices. */
export const DOTTED_PATH_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]+)*$';

const DOTTED_PATH = new RegExp(DOTTED_PATH_PATTERN);

/** The segments of a dotted path. */
export function splitPath(path: string): string[] {
  return path.split('.');
}

/** True when `ancestor` names a mapping that contains `path` (`optimizer` contains `optimizer.lr`). */
export function isAncestorPath(ancestor: string, path: string): boolean {
  return path.length > ancestor.length && path.startsWith(ancestor) && path[ancestor.length] === '.';
}

/** Why `path` cannot be a swept config path, or null when it can. */
export function pathProblem(path: string): string | null {
  if (!DOTTED_PATH.test(path)) {
    return `'${path}' is not a dotted config path: write keys separated by dots, like optimizer.lr or model.kernel_sizes.0 (letters, digits, _ and -; the first key starts with a letter or _).`;
  }
  const segments = splitPath(path);
  if (segments[0] === 'sweep') {
    return `'${path}' points into the sweep block itself; a sweep can only vary the experiment's own settings.`;
  }
  if (segments.includes('__proto__')) return `'${path}' contains the reserved key __proto__.`;
  return null;
}
