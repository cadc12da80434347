import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from '../cli-args.ts';
import { schemaFiles, staleSchemaFiles, writeSchemaFiles } from '../config/schema-files.ts';
import { loadPluginFiles, pluginOption } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import type { Command } from './command.ts';

/** The committed schemas folder of this project. */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas', import.meta.url));

/** `runner schema`: writes the JSON Schemas generated from the registered components. */
export const command: Command = {
  help: `Usage: runner schema [--out <dir>] [--check] [--plugins <file,...> --out <dir>]

Generates the JSON Schema of experiment files from the registered components' params (the same
schema the validator uses) and writes experiment.schema.json plus <kind>.schema.json, and the
markdown reference ../docs/CONFIG.md beside the schemas folder.

Options:
  --out <dir>         Folder to write (default: the project's schemas/)
  --check             Write nothing; exit 1 if any file is missing or stale
  --plugins <files>   Plugin modules (comma-separated or repeated) whose components the schemas include,
                      for editors: needs --out, a folder other than the project's schemas/; writes the
                      schemas only (no CONFIG.md)

Example: runner schema --plugins my_components.ts --out schemas-mine, then point the config's
'# yaml-language-server: $schema=schemas-mine/experiment.schema.json' line at it.`,
  async run(argv) {
    const { values } = parseCommandArgs('schema', argv, {
      out: { type: 'string' },
      check: { type: 'boolean' },
      plugins: { type: 'string', multiple: true },
    });
    const dir = values.out ? resolve(values.out) : SCHEMAS_DIR;
    const plugins = pluginOption(values.plugins);
    if (plugins.length > 0) {
      if (values.check) throw new UserError('runner schema: --check compares the committed schemas; it does not go with --plugins.');
      if (!values.out || dir === SCHEMAS_DIR) {
        throw new UserError(
          "runner schema --plugins needs --out <dir>, a folder other than the project's schemas/ (those list the built-in components only).",
        );
      }
      await loadPluginFiles(plugins);
    }
    if (values.check) {
      const stale = staleSchemaFiles(dir);
      if (stale.length === 0) return 0;
      process.stderr.write(`stale schema files in ${dir}: ${stale.join(', ')}; run 'runner schema' and commit them.\n`);
      return 1;
    }
    // With plugins only the schemas (for the editor): docs/CONFIG.md describes the built-in components.
    const changed = writeSchemaFiles(dir, plugins.length > 0 ? schemaFiles() : undefined);
    process.stdout.write(
      changed.length === 0 ? `schemas in ${dir} are up to date\n` : `wrote ${changed.map((n) => resolve(dir, n)).join(', ')}\n`,
    );
    return 0;
  },
};
