import { ConfigDiagnosticsError } from './diagnostics.ts';
import { ConfigError } from './issues.ts';
import type { LoadedConfig } from './load.ts';

/**
 * Runs `body`, turning config issues found while building (ConfigError, ConfigKeyError among them) into
 * located diagnostics.
 */
export async function withConfigLocations<T>(loaded: LoadedConfig, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigDiagnosticsError(loaded.locate(error.issues));
    throw error;
  }
}
