import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.ts';
import { ConfigDiagnosticsError, type Diagnostic } from './diagnostics.ts';
import type { ConfigIssue, ConfigPath } from './issues.ts';
import type { ExperimentConfig } from './schema.ts';
import { deepMerge, isMapping, parseDottedPath, setAtPath, type Mapping } from './tree.ts';
import { resolveLifecycle } from './lifecycle.ts';
import { isPluginLoaded, pluginEntries } from './plugin-modules.ts';
import { validateExperiment } from './validate.ts';
import { YamlSource } from './yaml-source.ts';

/** One value set from outside the files (`--set a.b=c`, a sweep trial). */
export interface ConfigOverride {
  path: ConfigPath;
  value: unknown;
  /** Shown in diagnostics instead of file:line:col, e.g. `--set optimizer.lr=abc`. */
  origin: string;
}

/** A loaded, validated config and everything needed to point at its sources later. */
export interface LoadedConfig {
  /** Absolute path of the config file given. */
  file: string;
  /** Validated config: defaults applied, relative paths resolved, `extends` removed. */
  config: ExperimentConfig;
  /** Every config file read (the file and all it extends), for watchers. */
  files: string[];
  /** The `--set` overrides applied on top of the files (recorded in checkpoints, so --resume can load the same config). */
  overrides: ConfigOverride[];
  /** Locates issues found later (while building components) in the files or overrides. */
  locate(issues: ConfigIssue[]): Diagnostic[];
}

/** Parses `a.b=c` (value as YAML) into an override; bad syntax is a UserError. */
export function parseSetOption(text: string): ConfigOverride {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UserError(`--set expects path=value (e.g. --set optimizer.lr=0.003), got '${text}'.`);
  const dotted = text.slice(0, equals).trim();
  let value: unknown;
  try {
    value = parseYaml(text.slice(equals + 1));
  } catch (error) {
    throw new UserError(`--set ${text}: the value is not valid YAML (${(error as Error).message.split('\n')[0]}).`);
  }
  return { path: parseDottedPath(dotted), value: value ?? null, origin: `--set ${text}` };
}

/** A config file and the files it extends, merged, with the overrides set: not yet validated. */
export interface MergedConfig {
  /** Absolute path of the config file given. */
  file: string;
  /** The merged tree (`extends` removed, overrides set). */
  data: Mapping;
  /** Every file read, the given one first. */
  sources: YamlSource[];
  /** The folder a relative path at `path` is relative to: its file's folder, or the working directory for `--set`. */
  baseDir(path: ConfigPath): string;
  /** Locates issues in the files or overrides. */
  locate(issues: ConfigIssue[]): Diagnostic[];
}

/** Reads a config file: parse (guarded), `extends`, overrides; syntax problems all at once. */
export function readConfig(file: string, overrides: ConfigOverride[] = []): MergedConfig {
  const absolute = resolve(file);
  const sources: YamlSource[] = [];
  const diagnostics: Diagnostic[] = [];
  const data = readLayered(absolute, [], sources, diagnostics);
  if (diagnostics.length > 0) throw new ConfigDiagnosticsError(diagnostics);

  const locate = (issues: ConfigIssue[]): Diagnostic[] =>
    sortDiagnostics(
      issues.map((issue) => {
        const source = definingSource(sources, issue.path);
        const writtenInFile = source.depthOf(issue.path) === issue.path.length;
        const override = [...overrides]
          .reverse()
          .find((o) => startsWith(issue.path, o.path) || (!writtenInFile && startsWith(o.path, issue.path)));
        if (override) return { ...issue, origin: override.origin };
        return { ...issue, position: source.locate(issue.path, issue.atKey), lines: source.lines };
      }),
    );

  const merged = data as Mapping;
  for (const override of overrides) {
    const problem = setAtPath(merged, override.path, structuredClone(override.value));
    if (problem) diagnostics.push({ path: override.path, message: `cannot set: ${problem}.`, origin: override.origin });
  }
  if (diagnostics.length > 0) throw new ConfigDiagnosticsError(diagnostics);

  const baseDir = (path: ConfigPath) => {
    if (overrides.some((o) => startsWith(path, o.path))) return process.cwd();
    return dirname(definingSource(sources, path).file);
  };
  return { file: absolute, data: merged, sources, baseDir, locate };
}

/**
 * Loads a config file: parse (guarded), `extends`, overrides, validation. All problems at once. Its `plugins:` must
 * have been imported first (`loadPlugins`, which is async): their components are validated like built-in ones.
 */
export function loadConfig(file: string, overrides: ConfigOverride[] = []): LoadedConfig {
  const { file: absolute, data: merged, sources, baseDir, locate } = readConfig(file, overrides);
  const unloaded = pluginEntries({ data: merged, baseDir }).filter((entry) => !isPluginLoaded(entry.file));
  if (unloaded.length > 0) {
    throw new ConfigDiagnosticsError(
      locate(
        unloaded.map((entry) => ({
          path: entry.path,
          message: `plugin ${entry.file} was not loaded: the caller must await loadPlugins() before loadConfig().`,
        })),
      ),
    );
  }
  const { config, issues } = validateExperiment(merged, baseDir);
  if (!config) throw new ConfigDiagnosticsError(locate(issues));
  // Rules across keys that need no data: what the monitor names exists, what needs a monitor has one.
  const lifecycleErrors = resolveLifecycle(config).issues.filter((i) => i.severity !== 'warning');
  if (lifecycleErrors.length > 0) throw new ConfigDiagnosticsError(locate(lifecycleErrors));
  return { file: absolute, config, files: sources.map((s) => s.file), overrides, locate };
}

/** Reads a file and the files it extends (depth first), merging bases under it. */
function readLayered(file: string, chain: string[], sources: YamlSource[], diagnostics: Diagnostic[]): Mapping {
  if (!existsSync(file)) {
    throw new UserError(
      chain.length === 0 ? `Config file ${file} does not exist.` : `Config file ${file}, extended by ${chain.at(-1)}, does not exist.`,
    );
  }
  if (statSync(file).isDirectory()) {
    throw new UserError(
      chain.length === 0 ? `Config file ${file} is a folder.` : `Config file ${file}, extended by ${chain.at(-1)}, is a folder.`,
    );
  }
  const source = YamlSource.read(file);
  sources.push(source);
  const problems = source.problems();
  if (problems.length > 0) {
    diagnostics.push(...problems.map((p) => ({ path: [], message: p.message, position: p.position, lines: source.lines })));
    return {};
  }
  let data: unknown;
  try {
    data = source.toData();
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  if (!isMapping(data)) {
    diagnostics.push({
      path: [],
      message: 'a config must be a mapping of keys (name:, data:, model:, ...).',
      position: source.locate([]),
      lines: source.lines,
    });
    return {};
  }
  const { extends: parents, ...own } = data;
  let merged: Mapping = {};
  const parentList = parents === undefined ? [] : Array.isArray(parents) ? parents : [parents];
  parentList.forEach((parent, index) => {
    const path: ConfigPath = Array.isArray(parents) ? ['extends', index] : ['extends'];
    if (typeof parent !== 'string' || parent.trim() === '') {
      diagnostics.push({
        path,
        message: 'extends takes a file path or a list of file paths.',
        position: source.locate(path),
        lines: source.lines,
      });
      return;
    }
    const parentFile = resolve(dirname(file), parent);
    if ([...chain, file].includes(parentFile)) {
      const cycle = [...chain, file, parentFile].map((f) => relative(process.cwd(), f) || f).join(' → ');
      diagnostics.push({ path, message: `extends makes a cycle: ${cycle}.`, position: source.locate(path), lines: source.lines });
      return;
    }
    merged = deepMerge(merged, readLayered(parentFile, [...chain, file], sources, diagnostics)) as Mapping;
  });
  return deepMerge(merged, own) as Mapping;
}

/** The source that writes the deepest part of `path` (the extending file wins ties). */
export function definingSource(sources: YamlSource[], path: ConfigPath): YamlSource {
  let best = sources[0]!;
  let bestDepth = -1;
  for (const source of sources) {
    const depth = source.depthOf(path);
    if (depth > bestDepth) [best, bestDepth] = [source, depth];
  }
  return best;
}

/** True when `path` is `prefix` or lies below it. */
export function startsWith(path: ConfigPath, prefix: ConfigPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => String(segment) === String(path[i]));
}

/** File diagnostics in file order (line, column), then those from overrides. */
function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => (d.position ? [0, d.position.file, d.position.line, d.position.col] : [1, d.origin ?? '', 0, 0]);
  return [...diagnostics].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}
