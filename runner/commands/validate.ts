import { parseCommandArgs } from '../cli-args.ts';
import { ConfigDiagnosticsError, formatDiagnostics } from '../config/diagnostics.ts';
import { parseSetOption } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { validTrials } from '../sweep/display.ts';
import { planSweep } from '../sweep/plan.ts';
import { useColor } from '../terminal.ts';
import type { Command } from './command.ts';

/** `runner validate`: checks configs against the schema without building anything. */
export const command: Command = {
  name: 'validate',
  summary: 'Check config files against the schema; every problem with file:line:col.',
  help: `Usage: runner validate <config.yaml>... [--set <path=value>]...

Parses each config (extends and --set applied) and validates it against the registered
components' schemas. A config with a sweep: block is expanded and every trial's resolved config
is validated, exactly as runner sweep --dry-run does (a problem caused by a sweep value points at
that value). Prints every problem with file:line:col, the YAML path and a code frame.
Exit code 0 when all are valid, 2 otherwise.

Example: runner validate configs/*.yaml`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('validate', argv, { set: { type: 'string', multiple: true } });
    if (positionals.length === 0) throw new UserError("runner validate needs at least one config file. See 'runner validate --help'.");
    const overrides = (values.set ?? []).map(parseSetOption);
    let invalid = 0;
    for (const file of positionals) {
      try {
        const plan = planSweep(file, { overrides }); // a plain config is planned as one trial: loadConfig
        process.stdout.write(`ok      ${file}${plan.sweep ? `: sweep of ${validTrials(plan.trials)}` : ''}\n`);
        for (const warning of plan.sweep ? plan.warnings : []) process.stdout.write(`        warning: ${warning}\n`);
      } catch (error) {
        if (!(error instanceof ConfigDiagnosticsError)) {
          if (error instanceof UserError) {
            invalid++;
            process.stdout.write(`invalid ${file}\n${error.message}\n`);
            continue;
          }
          throw error;
        }
        invalid++;
        process.stdout.write(`invalid ${file}\n${formatDiagnostics(error.diagnostics, { color: useColor(process.stdout) })}\n\n`);
      }
    }
    return invalid === 0 ? 0 : 2;
  },
};
