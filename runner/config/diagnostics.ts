import { UserError } from '../errors.ts';
import { formatPath, type ConfigIssue } from './issues.ts';
import type { SourcePosition, YamlSource } from './yaml-source.ts';

/** A located config problem, ready to print. */
export interface Diagnostic extends ConfigIssue {
  /** Where it is written, when it comes from a file. */
  position?: SourcePosition;
  /** The file's text lines, for the code frame. */
  lines?: string[];
  /** Where it comes from when not from a file (e.g. `--set optimizer.lr=abc`). */
  origin?: string;
}

/** Every problem of a config at once; the message is the formatted diagnostics (exit code 2). */
export class ConfigDiagnosticsError extends UserError {
  override name = 'ConfigDiagnosticsError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(formatDiagnostics(diagnostics, { color: false }));
  }
}

/** Builds a diagnostic at a position of a source file. */
export function diagnosticAt(source: YamlSource, issue: ConfigIssue, position: SourcePosition): Diagnostic {
  return { ...issue, position, lines: source.lines };
}

/** Formats diagnostics as `file:line:col  path: message`, hint and a code frame of the line. */
export function formatDiagnostics(diagnostics: Diagnostic[], options: { color: boolean }): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const blocks = diagnostics.map((d) => {
    const severity = d.severity === 'warning' ? paint('33', 'warning') : paint('31', 'error');
    const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.col}` : (d.origin ?? '(config)');
    const lines = [`${paint('1', where)} ${severity} ${paint('36', formatPath(d.path))}: ${d.message}`];
    if (d.hint) lines.push(`  ${paint('2', d.hint)}`);
    if (d.position && d.lines) lines.push(...codeFrame(d.lines, d.position));
    return lines.join('\n');
  });
  const errors = diagnostics.filter((d) => d.severity !== 'warning').length;
  const summary = errors === 1 ? '1 problem' : `${errors} problems`;
  return blocks.join('\n\n') + (errors > 0 ? `\n\n${summary} in the config.` : '');
}

function codeFrame(lines: string[], position: SourcePosition): string[] {
  const frame: string[] = [];
  const width = String(position.line + 1).length;
  for (let n = Math.max(1, position.line - 1); n <= Math.min(lines.length, position.line + 1); n++) {
    const marker = n === position.line ? '>' : ' ';
    frame.push(`  ${marker} ${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === position.line) frame.push(`    ${' '.repeat(width)} | ${' '.repeat(Math.max(0, position.col - 1))}^`);
  }
  return frame;
}
