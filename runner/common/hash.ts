import { UserError } from '../errors.ts';
import { createHash } from 'node:crypto';
import { formatPath, type YamlPath } from './yaml-path.ts';

/**
 * Canonical JSON of a config: mapping keys sorted (by UTF-16 code units, as RFC 8785), no whitespace,
 * numbers and strings as JSON.stringify writes them (so 1 and 1.0 are the same, -0 is 0). Keys whose
 * value is undefined are left out, as JSON.stringify does. Equal configs give equal text whatever
 * their key order; the config hash of runs and trials is the sha256 of this text.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, []);
}

/** sha256 (hex) of a value's canonical JSON: equal values give equal hashes whatever their key order. */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function encode(value: unknown, path: YamlPath): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new UserError(
          `Cannot compute the config hash: the value at ${formatPath(path)} is ${value}, which JSON cannot hold. Use a finite number (e.g. a large one instead of .inf).`,
        );
      }
      return JSON.stringify(value);
    case 'object': {
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => (item === undefined ? 'null' : encode(item, [...path, i]))).join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) break;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${encode(record[key], [...path, key])}`).join(',')}}`;
    }
  }
  throw new TypeError(`canonicalJson: unsupported value at ${formatPath(path)}: ${Object.prototype.toString.call(value)}`);
}
