/**
 * The `runner` CLI. It loads only the command table here: a command's module (and TensorFlow, MLflow, the config
 * validator) is imported when that command runs, so `runner --version` and `runner --help` answer at once.
 */
import { COMMANDS } from './commands/index.ts';
import { runnerVersion } from './common/provenance.ts';
import { UserError, exitCodeOf } from './errors.ts';
import { closestName } from './common/names.ts';

/** Every sub-command (names and summaries), in the order `runner --help` lists them. */
export const commands = COMMANDS;

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
    const entry = commands.find((c) => c.name === name);
    if (!entry) {
      const closest = closestName(
        name,
        commands.map((c) => c.name),
      );
      throw new UserError(
        `'${name}' is not a runner command.${closest ? ` Did you mean '${closest}'?` : ''} Commands: ${commands.map((c) => c.name).join(', ')}.`,
      );
    }
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(command.help + '\n');
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    (await import('./report-error.ts')).reportError(error, debug);
    return exitCodeOf(error);
  }
}
