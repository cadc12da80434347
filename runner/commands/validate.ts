import { parseCommandArgs } from '../cli-args.ts';
import { ConfigDiagnosticsError, formatDiagnostics, type Diagnostic } from '../config/diagnostics.ts';
import { parseSetOption } from '../config/load.ts';
import { loadPlugins } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import { validTrials } from '../sweep/display.ts';
import { planSweepChecked } from '../sweep/plan.ts';
import { useColor } from '../terminal.ts';
import type { Command } from './command.ts';
import { diagnosticJson, printJson, wantsJson, withJsonErrors, type JsonDiagnostic } from './json-output.ts';

/** One config in `runner validate --json`. */
interface ValidateJson {
  file: string;
  valid: boolean;
  /** Trials of a sweep. */
  trials?: number;
  warnings: string[];
  diagnostics: JsonDiagnostic[];
}

/** `runner validate`: checks configs against the schema and runs the static check (everything knowable before data loads). */
export const command: Command = {
  help: `Usage: runner validate <config.yaml>... [--set <path=value>]...

Parses each config (extends and --set applied), validates it against the registered
components' schemas, then runs every check that needs no training data: each component's
cross-field rules, regular expressions, the files it names (datasets, word vectors, a pretrained
model.json and its weight files), a pretrained model's layers (cut_at), image shapes through the
augmentation steps, and param_groups resolved against the model's variables (the model is built
on a placeholder vocabulary, without data). A config with a sweep: block is expanded and every trial's resolved config
is validated, exactly as runner sweep --dry-run does (a problem caused by a sweep value points at
that value). Prints every problem with file:line:col, the YAML path and a code frame.
Exit code 0 when all are valid, 2 otherwise.

Options:
  --set <path=value>   Override a config value (repeatable)
  --json               Print one JSON document on stdout: {status: "ok"|"invalid", configs: [{file, valid,
                       trials?, warnings, diagnostics: [{file, line, col, path, severity, message, hint?}]}]};
                       the text for people goes to stderr

Example: runner validate configs/*.yaml`,
  async run(argv) {
    const json = wantsJson(argv);
    return withJsonErrors(json, async () => {
      const { values, positionals } = parseCommandArgs('validate', argv, {
        set: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      });
      if (positionals.length === 0) throw new UserError("runner validate needs at least one config file. See 'runner validate --help'.");
      const overrides = (values.set ?? []).map(parseSetOption);
      // With --json, stdout holds the one JSON document: the text for people goes to stderr.
      const out = json ? process.stderr : process.stdout;
      const configs: ValidateJson[] = [];
      for (const file of positionals) {
        try {
          await loadPlugins(file, overrides);
          // A plain config is planned as one trial (loadConfig), then statically checked.
          const { plan, warnings: located } = await planSweepChecked(file, { overrides });
          const warnings = [...(plan.sweep ? plan.warnings : []), ...located.map(formatWarning)];
          out.write(`ok      ${file}${plan.sweep ? `: sweep of ${validTrials(plan.trials)}` : ''}\n`);
          for (const warning of warnings) out.write(`        warning: ${warning}\n`);
          configs.push({ file, valid: true, ...(plan.sweep && { trials: plan.trials.length }), warnings, diagnostics: [] });
        } catch (error) {
          if (!(error instanceof ConfigDiagnosticsError)) {
            if (error instanceof UserError) {
              out.write(`invalid ${file}\n${error.message}\n`);
              configs.push({
                file,
                valid: false,
                warnings: [],
                diagnostics: [{ file, path: '', severity: 'error', message: error.message }],
              });
              continue;
            }
            throw error;
          }
          out.write(`invalid ${file}\n${formatDiagnostics(error.diagnostics, { color: useColor(out as NodeJS.WriteStream) })}\n\n`);
          configs.push({ file, valid: false, warnings: [], diagnostics: error.diagnostics.map(diagnosticJson) });
        }
      }
      const valid = configs.every((c) => c.valid);
      if (json) printJson({ status: valid ? 'ok' : 'invalid', configs });
      return valid ? 0 : 2;
    });
  },
};

/** A located warning on one line: `file:line:col path: message`. */
function formatWarning(warning: Diagnostic): string {
  return formatDiagnostics([warning], { color: false }).split('\n')[0]!.replace(' warning ', ' ');
}
