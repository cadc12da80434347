import { ConfigDiagnosticsError, formatDiagnostics } from './config/diagnostics.ts';
import { UserError } from './errors.ts';
import { useColor } from './terminal.ts';

/** Prints an error the way users should see it: one paragraph, stack only with --debug. */
export function reportError(error: unknown, debug: boolean): void {
  if (error instanceof ConfigDiagnosticsError) {
    process.stderr.write(formatDiagnostics(error.diagnostics, { color: useColor(process.stderr) }) + '\n');
  } else if (error instanceof UserError) {
    process.stderr.write(`runner: ${error.message}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`runner: internal error: ${message}\n${debug ? '' : '(run again with --debug to see where it happened)\n'}`);
  }
  if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
}
