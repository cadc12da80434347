import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';

/** Parses a sub-command's arguments strictly; unknown options are a UserError naming the command. */
export function parseCommandArgs<const T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`runner ${command}: ${(error as Error).message}. See 'runner ${command} --help'.`);
  }
}
