import { ConfigDiagnosticsError, type Diagnostic } from '../config/diagnostics.ts';
import { formatPath } from '../config/issues.ts';
import { exitCodeOf } from '../errors.ts';

/** A config problem in `--json` output: where it is written (file/line/col, or the override it came from) and what is wrong. */
export interface JsonDiagnostic {
  file?: string;
  line?: number;
  col?: number;
  origin?: string;
  path: string;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
}

/** A diagnostic as `--json` reports it. */
export function diagnosticJson(d: Diagnostic): JsonDiagnostic {
  return {
    ...(d.position && { file: d.position.file, line: d.position.line, col: d.position.col }),
    ...(d.origin && { origin: d.origin }),
    path: formatPath(d.path),
    severity: d.severity ?? 'error',
    message: d.message,
    ...(d.hint && { hint: d.hint }),
  };
}

/** An error as `--json` reports it: its message and exit code, and for config problems every diagnostic. */
export function errorJson(error: unknown): { message: string; exit_code: number; diagnostics?: JsonDiagnostic[] } {
  return {
    message: error instanceof Error ? error.message : String(error),
    exit_code: exitCodeOf(error),
    ...(error instanceof ConfigDiagnosticsError && { diagnostics: error.diagnostics.map(diagnosticJson) }),
  };
}

/** Writes the one JSON document of `--json` on stdout. */
export function printJson(document: unknown): void {
  process.stdout.write(JSON.stringify(document, null, 2) + '\n');
}

/**
 * Runs a command's body. With `json`, an error it throws is printed as `{"status": "error", "error": {...}}` on stdout
 * (the one JSON document), then passed on, so the CLI still prints its paragraph on stderr and exits with its code.
 */
export async function withJsonErrors(json: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (json) printJson({ status: 'error', error: errorJson(error) });
    throw error;
  }
}

/** True when the arguments ask for `--json` (checked before parsing, so a usage error is reported as JSON too). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}
