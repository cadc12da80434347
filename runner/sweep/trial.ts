import type { YamlPath } from './errors.ts';

/** One trial: dotted config path → value, in the order the values were added. */
export type Trial = Record<string, unknown>;

/** A trial with, for each of its paths, where in the config its value was written. */
export interface PlannedTrial {
  /** The trial's values. */
  values: Trial;
  /** Dotted path → location of the YAML node that supplied its value, e.g. ['sweep', 'matrix', 'optimizer.lr', 1]. */
  sources: Record<string, YamlPath>;
}

/** True for a mapping (a plain object, not a list or null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets `key` on a trial as an own property, whatever the key (never touches the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
