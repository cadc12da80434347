import { createHash } from 'node:crypto';
import { codePoints, type KeyValue, LIMITS, safeKey, truncateCodePoints } from './limits.ts';

/** Artifact (and run-folder file) holding the full text of params and tags too long for the server. */
export const LONG_VALUES_FILE = 'long_values.json';

/** Full texts of values that were shortened, by key. */
export interface LongValues {
  params: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * Every leaf of a nested config as a dotted key with a string value: `{optimizer: {param_groups: [{lr_mult: 2}]}}`
 * gives `optimizer.param_groups.0.lr_mult = "2"`. Empty objects and arrays are leaves (`{}`, `[]`); undefined is skipped.
 */
export function flattenParams(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, key: string) => {
    if (value === undefined || typeof value === 'function') return;
    if (Array.isArray(value)) {
      if (value.length === 0) out[key] = '[]';
      value.forEach((item, i) => walk(item, key ? `${key}.${i}` : String(i)));
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) out[key] = '{}';
      for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k);
    } else {
      out[key] = paramString(value);
    }
  };
  walk(config, '');
  return out;
}

function paramString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/**
 * Params as the server takes them: keys made valid (and unique), values over 6000 code points replaced by a
 * pointer to LONG_VALUES_FILE, whose full text is returned in `long`.
 */
export function prepareParams(flat: Record<string, string>): { params: KeyValue[]; long: Record<string, string> } {
  const { items, long } = prepare(
    flat,
    LIMITS.paramValueLength,
    (value) => `[${codePoints(value)} characters: full value in artifact ${LONG_VALUES_FILE}]`,
  );
  return { params: items, long };
}

/** Tags as the server takes them: keys made valid (and unique), values over 8000 code points truncated (full text in `long`). */
export function prepareTags(tags: Record<string, string>): { tags: KeyValue[]; long: Record<string, string> } {
  const note = ` [... truncated: full value in artifact ${LONG_VALUES_FILE}]`;
  const { items, long } = prepare(
    tags,
    LIMITS.tagValueLength,
    (value) => truncateCodePoints(value, LIMITS.tagValueLength - note.length) + note,
  );
  return { tags: items, long };
}

function prepare(
  values: Record<string, string>,
  maxLength: number,
  shorten: (value: string) => string,
): { items: KeyValue[]; long: Record<string, string> } {
  const items: KeyValue[] = [];
  const long: Record<string, string> = {};
  const used = new Set<string>();
  for (const [rawKey, rawValue] of Object.entries(values)) {
    let key = safeKey(rawKey);
    if (used.has(key))
      key = safeKey(`${key.slice(0, LIMITS.keyLength - 10)}~${createHash('sha256').update(rawKey).digest('hex').slice(0, 8)}`);
    used.add(key);
    const value = String(rawValue);
    if (codePoints(value) > maxLength) {
      long[key] = value;
      items.push({ key, value: shorten(value) });
    } else {
      items.push({ key, value });
    }
  }
  return { items, long };
}
