import { resolve } from 'node:path';
import { parseCommandArgs } from '../cli-args.ts';
import { parseSetOption } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { watchConfig } from '../watch/watch.ts';
import type { Command } from './command.ts';
import { defaultRunsDir } from '../run/run-config.ts';
import { withSweepInterrupts } from './sweep.ts';

/** `runner watch`: runs a config (or its sweep) and runs it again on every change to it or the files it extends. */
export const command: Command = {
  help: `Usage: runner watch <config.yaml> [options]

Runs the config (a sweep: block runs its sweep, as runner sweep does), then watches the file and every file
it extends. After each change (debounced):
  - invalid config: its diagnostics are printed; the current run keeps going
  - same resolved config (a comment, key order, a value written differently): nothing happens
  - changed: the run in flight is stopped (it ends KILLED in MLflow; its process, and with it every tensor, is
    gone) and the new config runs. For a sweep only trials whose resolved config changed run again: unchanged
    trials keep running or stay finished, trials that are gone are stopped.
A status line says what is happening (running / watching / waiting for a valid config). Ctrl-C stops the runs
in flight (KILLED) and exits.

Options:
  --set <path=value>   Override a config value (repeatable), on every reload
  --runs-dir <dir>     Where run folders go (default: $RUNNER_RUNS_DIR or ./runs)
  --debounce <ms>      Quiet time after the last change before reloading (default 300)

Example: runner watch configs/quickstart.yaml`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('watch', argv, {
      set: { type: 'string', multiple: true },
      'runs-dir': { type: 'string' },
      debounce: { type: 'string' },
    });
    if (positionals.length !== 1)
      throw new UserError(`runner watch takes one config file, got ${positionals.length}. See 'runner watch --help'.`);
    const debounceMs = values.debounce === undefined ? 300 : Number(values.debounce);
    if (!Number.isFinite(debounceMs) || debounceMs < 0)
      throw new UserError(`--debounce takes milliseconds (e.g. 300), not '${values.debounce}'.`);
    return withSweepInterrupts((signal) =>
      watchConfig({
        file: positionals[0]!,
        overrides: (values.set ?? []).map(parseSetOption),
        runsDir: values['runs-dir'] ? resolve(values['runs-dir']) : defaultRunsDir(),
        signal,
        debounceMs,
      }),
    );
  },
};
