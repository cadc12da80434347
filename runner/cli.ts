import { ConfigDiagnosticsError, formatDiagnostics } from './config/diagnostics.ts';
import { UserError, exitCodeOf } from './errors.ts';
import { closestName } from './registry.ts';
import { runnerVersion } from './common/provenance.ts';
import { useColor } from './terminal.ts';
import type { Command } from './commands/command.ts';
import { command as components } from './commands/components.ts';
import { command as evaluate } from './commands/evaluate.ts';
import { command as predict } from './commands/predict.ts';
import { command as run } from './commands/run.ts';
import { command as schema } from './commands/schema.ts';
import { command as sweep } from './commands/sweep.ts';
import { command as sync } from './commands/sync.ts';
import { command as ui } from './commands/ui.ts';
import { command as validate } from './commands/validate.ts';
import { command as watch } from './commands/watch.ts';

/** Every sub-command, in the order `runner --help` lists them. */
export const commands: Command[] = [run, sweep, watch, predict, evaluate, validate, components, schema, sync, ui];

const usage = () => `runner ${runnerVersion()}: declarative experiments for TensorFlow.js

Usage: runner <command> [options]     (runner <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Global options: --help, --version, --debug (show stack traces of errors)
Exit codes: 0 success, 1 the run failed, 2 bad input (config, data, command line),
130 interrupted (Ctrl-C), 143 stopped by SIGTERM.`;

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.RUNNER_DEBUG === '1';
  const args = argv.filter((a) => a !== '--debug');
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(usage() + '\n');
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(runnerVersion() + '\n');
      return 0;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) {
      const closest = closestName(
        name,
        commands.map((c) => c.name),
      );
      throw new UserError(
        `'${name}' is not a runner command.${closest ? ` Did you mean '${closest}'?` : ''} Commands: ${commands.map((c) => c.name).join(', ')}.`,
      );
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(command.help + '\n');
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    reportError(error, debug);
    return exitCodeOf(error);
  }
}

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
