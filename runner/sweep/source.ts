/** The raw (unvalidated) config of a sweep file: its `sweep:` block and locations, even when the base config alone is invalid. */
import { dirname, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Diagnostic } from '../config/diagnostics.ts';
import type { ConfigIssue, ConfigPath } from '../config/issues.ts';
import { definingSource, loadConfig, startsWith, type ConfigOverride } from '../config/load.ts';
import { deepMerge, isMapping, setAtPath, type Mapping } from '../config/tree.ts';
import { YamlSource } from '../config/yaml-source.ts';
import { UserError } from '../errors.ts';

/** A config file read as data, before validation. */
export interface RawConfig {
  /** Absolute path of the file. */
  file: string;
  /** The file and every file it extends (for watchers). */
  files: string[];
  /** The merged data (extends applied, then the --set overrides), not validated. */
  data: Mapping;
  /** Places issues (paths from the config root) in the files, or at the --set override that wrote them. */
  locate(issues: ConfigIssue[]): Diagnostic[];
  /** `file:line:col` of a config path as written, e.g. of a sweep matrix value. */
  where(path: ConfigPath): string;
}

/**
 * Reads a config file and the files it extends, merged as `loadConfig` merges them, with `overrides` set, without
 * validating it: a sweep's base config may be invalid on its own when every trial completes it. Problems of the files
 * themselves (YAML errors, missing files, extends cycles) are reported by loadConfig's own diagnostics.
 */
export function readRawConfig(file: string, overrides: ConfigOverride[] = []): RawConfig {
  const absolute = resolve(file);
  const sources: YamlSource[] = [];
  const data = readLayered(absolute, [], sources);
  if (data === undefined) {
    loadConfig(absolute, overrides); // throws the located problems
    throw new UserError(`Config file ${absolute} cannot be read.`);
  }
  for (const override of overrides) {
    const problem = setAtPath(data, override.path, structuredClone(override.value));
    if (problem) loadConfig(absolute, overrides);
  }
  const locate = (issues: ConfigIssue[]): Diagnostic[] =>
    issues.map((issue) => {
      const override = [...overrides].reverse().find((o) => startsWith(issue.path, o.path));
      if (override) return { ...issue, origin: override.origin };
      const source = definingSource(sources, issue.path);
      return { ...issue, position: source.locate(issue.path, issue.atKey), lines: source.lines };
    });
  const where = (path: ConfigPath): string => {
    const [located] = locate([{ path, message: '' }]);
    return located?.position ? `${located.position.file}:${located.position.line}:${located.position.col}` : (located?.origin ?? absolute);
  };
  return { file: absolute, files: sources.map((s) => s.file), data, locate, where };
}

/** The merged data of a file and its bases, or undefined when anything is wrong with the files themselves. */
function readLayered(file: string, chain: string[], sources: YamlSource[]): Mapping | undefined {
  if (!existsSync(file) || statSync(file).isDirectory()) return undefined;
  const source = YamlSource.read(file);
  sources.push(source);
  if (source.problems().length > 0) return undefined;
  let data: unknown;
  try {
    data = source.toData();
  } catch {
    return undefined;
  }
  if (!isMapping(data)) return undefined;
  const { extends: parents, ...own } = data;
  const parentList = parents === undefined ? [] : Array.isArray(parents) ? parents : [parents];
  let merged: Mapping = {};
  for (const parent of parentList) {
    if (typeof parent !== 'string') return undefined;
    const parentFile = resolve(dirname(file), parent);
    if ([...chain, file].includes(parentFile)) return undefined;
    const base = readLayered(parentFile, [...chain, file], sources);
    if (base === undefined) return undefined;
    merged = deepMerge(merged, base) as Mapping;
  }
  return deepMerge(merged, own) as Mapping;
}
