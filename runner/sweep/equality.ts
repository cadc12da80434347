import { isMapping } from './trial.ts';

/**
 * Exact equality of two leaf values: same type and same value. Numbers compare numerically (YAML 1 and
 * 1.0 are the same number; NaN equals NaN), strings case-sensitively; "1" is not 1 and "true" is not true.
 * GitHub Actions converts types and ignores case here; for config values exact comparison is safer.
 */
export function leafEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return typeof a === typeof b && a === b;
}

/**
 * True when `value` matches `filter` leaf by leaf, as a matrix filter does. A mapping filter matches when
 * each of its leaves matches the value at the same place (keys it does not name are wildcards, an empty
 * mapping matches anything, and a null leaf also matches a missing key: in GitHub Actions a missing key
 * reads as null). A list filter matches only a list of the same length whose items match in order (a
 * deliberate choice: [2, 3] must not match [2, 3, 4]). Other leaves use `leafEquals`.
 */
export function matchesFilter(filter: unknown, value: unknown): boolean {
  if (isMapping(filter)) {
    return Object.entries(filter).every(([key, leaf]) =>
      matchesFilter(leaf, isMapping(value) && Object.hasOwn(value, key) ? value[key] : undefined),
    );
  }
  if (Array.isArray(filter)) {
    return Array.isArray(value) && value.length === filter.length && filter.every((item, i) => matchesFilter(item, value[i]));
  }
  if (filter === null && value === undefined) return true; // a missing key reads as null
  return leafEquals(filter, value);
}
