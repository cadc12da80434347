import type { ConfigPath } from './issues.ts';

/** A plain mapping (not a list, not null). */
export type Mapping = Record<string, unknown>;

/** True for a plain mapping. */
export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge for `extends`: mappings merge key by key, anything else in `override` replaces. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isMapping(base) || !isMapping(override)) return structuredClone(override);
  const merged: Mapping = structuredClone(base);
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in merged ? deepMerge(merged[key], value) : structuredClone(value);
  }
  return merged;
}

/**
 * Sets `value` at `path` in `root` (in place), creating missing mappings on the way. Numeric
 * segments index lists. Returns a problem description instead of throwing when the path crosses a
 * scalar or indexes past the end of a list.
 */
export function setAtPath(root: Mapping, path: ConfigPath, value: unknown): string | undefined {
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      const index = typeof segment === 'number' ? segment : /^\d+$/.test(segment) ? Number(segment) : NaN;
      if (!Number.isInteger(index) || index < 0 || index > node.length) {
        return `'${String(segment)}' is not an index of the list at ${path.slice(0, i).join('.')} (it has ${node.length} items)`;
      }
      if (last) node[index] = value;
      else node = node[index] ??= {};
    } else if (isMapping(node)) {
      const key = String(segment);
      if (last) node[key] = value;
      else {
        if (node[key] === undefined || node[key] === null) node[key] = {};
        node = node[key];
      }
    } else {
      return `${path.slice(0, i).join('.')} is a single value, not a mapping or list`;
    }
  }
  return undefined;
}

/** Parses `a.b.0.c` into path segments (digits become list indices). */
export function parseDottedPath(dotted: string): ConfigPath {
  return dotted.split('.').map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/**
 * Every leaf of a tree as `[dotted path, value]`. Lists of mappings are indexed
 * (`optimizer.param_groups.0.lr_mult`); lists of plain values are one leaf (`model.kernel_sizes`).
 */
export function flattenLeaves(value: unknown, prefix = ''): [string, unknown][] {
  const join = (key: string | number) => (prefix === '' ? String(key) : `${prefix}.${key}`);
  if (Array.isArray(value)) {
    if (value.every((item) => !isMapping(item) && !Array.isArray(item))) return [[prefix, value]];
    return value.flatMap((item, i) => flattenLeaves(item, join(i)));
  }
  if (isMapping(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return prefix === '' ? [] : [[prefix, {}]];
    return entries.flatMap(([key, item]) => flattenLeaves(item, join(key)));
  }
  return [[prefix, value]];
}
