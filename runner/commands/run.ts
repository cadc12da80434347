import { resolve } from 'node:path';
import { parseCommandArgs } from '../cli-args.ts';
import { parseSetOption } from '../config/load.ts';
import { loadPlugins } from '../config/plugins.ts';
import { UserError } from '../errors.ts';
import { Progress } from '../progress.ts';
import { defaultRunsDir, runConfig, type RunRequest } from '../run/run-config.ts';
import type { RunOutcome } from '../run/run-experiment.ts';
import { hasSweep } from '../sweep/plan.ts';
import type { Command } from './command.ts';
import { errorJson, printJson, wantsJson, withJsonErrors } from './json-output.ts';
import { command as sweepCommand } from './sweep.ts';

/** `runner run`: trains one experiment. */
export const command: Command = {
  help: `Usage: runner run <config.yaml> [options]
       runner run --resume <run-folder> [--force]

Validates the config, builds its components, trains on the fastest backend present and writes
runs/<name>/<run-id>/ (config.yaml, vocab.txt, metrics.jsonl, model/, summary.json).
A config with a sweep: block runs the sweep instead, as \`runner sweep\` does (see runner sweep --help).

Options:
  --set <path=value>   Override a config value (repeatable); the value is YAML: --set optimizer.lr=0.003
  --dry-run            Print the resolved config, the model and its parameter groups, then exit
  --runs-dir <dir>     Where run folders go (default: $RUNNER_RUNS_DIR or ./runs)
  --resume <run-folder>
                       Continue a KILLED, FAILED or killed-hard run from its last checkpoint, in the same run
                       folder and MLflow run; it ends as an uninterrupted run would have
  --force              With --resume: continue even though the config file changed since (recorded in the run)
  --json               Print one JSON document on stdout when the run ends: {status, run_folder, run_id,
                       mlflow_run_id, mlflow_run_url, metrics, error?}; everything else goes to stderr
  --quiet              Only warnings and errors
  --debug              Show stack traces of errors

Exit codes: 0 finished, 1 the run failed (e.g. the loss became NaN), 2 bad input, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.
Ctrl-C (or SIGTERM) stops after the current step; the run ends KILLED with its metrics on disk and a
checkpoint of its last completed epoch in checkpoints/last (runner run --resume continues it).

Example: runner run configs/quickstart.yaml --set optimizer.lr=0.003`,
  async run(argv) {
    return withJsonErrors(wantsJson(argv), () => runCommand(argv));
  },
};

async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', argv, {
    json: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    'runs-dir': { type: 'string' },
    quiet: { type: 'boolean' },
    resume: { type: 'string' },
    force: { type: 'boolean' },
  });
  const progress = new Progress(process.stderr, { quiet: values.quiet ?? false });
  const resume = values.resume !== undefined;
  if (resume) {
    if (positionals.length > 0 || values.set || values['dry-run'] || values['runs-dir']) {
      throw new UserError(
        `runner run --resume takes only the run folder (and --force): the config, its overrides and the runs folder are the run's own. See 'runner run --help'.`,
      );
    }
  } else {
    if (values.force) throw new UserError(`--force goes with --resume. See 'runner run --help'.`);
    if (positionals.length !== 1)
      throw new UserError(`runner run takes one config file, got ${positionals.length}. See 'runner run --help'.`);
  }
  const overrides = (values.set ?? []).map(parseSetOption);
  // A config with a sweep: block runs its sweep, with the same options (runner sweep has more).
  if (!resume) await loadPlugins(positionals[0]!, overrides); // before hasSweep: its components validate with the config
  if (!resume && hasSweep(positionals[0]!, overrides)) return sweepCommand.run(argv);
  const request: RunRequest = resume
    ? { resume: values.resume!, force: values.force ?? false }
    : {
        config: positionals[0]!,
        overrides,
        runsDir: values['runs-dir'] ? resolve(values['runs-dir']) : defaultRunsDir(),
        dryRun: values['dry-run'] ?? false,
      };
  const { outcome, exitCode } = await runConfig(request, { progress });
  if (values.json) printJson(runJson(outcome));
  return exitCode;
}

/** What `runner run --json` prints: the run's status, folder, MLflow run and metrics (and the error of a failed run). */
export function runJson(outcome: RunOutcome) {
  return {
    status: outcome.status,
    run_folder: outcome.runDir ?? null,
    run_id: outcome.runId ?? null,
    mlflow_run_id: outcome.mlflowRunId ?? null,
    mlflow_run_url: outcome.mlflowRunUrl ?? null,
    metrics: outcome.metrics,
    ...(outcome.error !== undefined && { error: errorJson(outcome.error) }),
  };
}
