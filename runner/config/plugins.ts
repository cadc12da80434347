/** Loading a config's `plugins:` before the config itself, so their components validate like built-in ones. */
import { UserError } from '../errors.ts';
import { ConfigDiagnosticsError } from './diagnostics.ts';
import type { ConfigIssue } from './issues.ts';
import { loadConfig, readConfig, type ConfigOverride, type LoadedConfig } from './load.ts';
import { importPlugin, pluginEntries } from './plugin-modules.ts';

/**
 * Imports the plugin modules a config names (`plugins:`, each relative to the file that wrote it, with `extends` and
 * `--set` applied as `loadConfig` applies them). Problems are located at their `plugins` entries.
 */
export async function loadPlugins(file: string, overrides: ConfigOverride[] = []): Promise<void> {
  const merged = readConfig(file, overrides);
  const issues: ConfigIssue[] = [];
  let cause: unknown;
  for (const entry of pluginEntries(merged)) {
    try {
      await importPlugin(entry.file);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      issues.push({ path: entry.path, message: error.message });
      cause ??= error.cause;
    }
  }
  if (issues.length > 0) throw Object.assign(new ConfigDiagnosticsError(merged.locate(issues)), { cause });
}

/** `loadConfig` after `loadPlugins`: how async callers load a config. */
export async function loadConfigWithPlugins(file: string, overrides: ConfigOverride[] = []): Promise<LoadedConfig> {
  await loadPlugins(file, overrides);
  return loadConfig(file, overrides);
}

/** The files of `--plugins a.ts,b.ts --plugins c.ts`. */
export function pluginOption(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((file) => file.trim())
    .filter(Boolean);
}

/** Imports plugin files given on the command line (`--plugins a.ts,b.ts`, relative to the working directory). */
export async function loadPluginFiles(files: readonly string[]): Promise<void> {
  for (const file of files) await importPlugin(file);
}
