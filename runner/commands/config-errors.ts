import { ConfigDiagnosticsError } from '../config/diagnostics.ts';
import { ConfigError } from '../config/issues.ts';
import type { LoadedConfig } from '../config/load.ts';
import { ConfigKeyError } from '../errors.ts';

/**
 * Runs `body`, turning config issues found while building (ConfigError, ConfigKeyError) into
 * located diagnostics.
 */
export async function withConfigLocations<T>(loaded: LoadedConfig, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigDiagnosticsError(loaded.locate(error.issues));
    if (error instanceof ConfigKeyError) {
      throw new ConfigDiagnosticsError(loaded.locate([{ path: error.path, message: error.message, hint: error.hint }]));
    }
    throw error;
  }
}
