import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseCommandArgs } from '../cli-args.ts';
import { UserError } from '../errors.ts';
import { MlflowError } from '../tracking/client.ts';
import { looksLikeRunDir, syncRunFolder } from '../tracking/sync.ts';
import type { Command } from './command.ts';

/** `runner sync`: uploads run folders to MLflow, idempotently. */
export const command: Command = {
  name: 'sync',
  summary: 'Upload run folders to MLflow (what a run could not send); running it twice sends nothing twice.',
  help: `Usage: runner sync <run-folder>... [--uri <mlflow-uri>] [--local]

Uploads everything of each run folder (runs/<experiment>/<run-id>) to MLflow: the run itself
(found again by its recorded id or client key, else created), params and tags, every point of
metrics.jsonl that the run's metric histories lack, the folder's files as artifacts (changed ones
only), and the run's status and end time. Safe to repeat: a second sync sends nothing twice.
An experiment folder (runs/<experiment>) syncs every run folder in it.

Where to: --uri, else where the run was tracked (its tracking.json), else MLFLOW_TRACKING_URI,
else the local store under runs/mlflow (a local MLflow server is started for the sync).
Credentials: MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.

Options:
  --uri <uri>   send to this MLflow server (http or https)
  --local       send to the local store under runs/mlflow

Examples:
  runner sync runs/quickstart/2025-11-29T10-00-00-abc123
  runner sync runs/quickstart --uri https://mlflow.example.com`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('sync', argv, {
      uri: { type: 'string' },
      local: { type: 'boolean' },
    });
    if (positionals.length === 0)
      throw new UserError(
        "runner sync needs at least one run folder, e.g. runner sync runs/<experiment>/<run-id>. See 'runner sync --help'.",
      );
    if (values.uri && values.local) throw new UserError('runner sync: choose one of --uri and --local.');
    const dirs = positionals.flatMap(expandRunDirs);
    let failed = 0;
    for (const dir of dirs) {
      try {
        const report = await syncRunFolder(dir, {
          uri: values.uri,
          local: values.local,
          log: (line) => process.stderr.write(`sync ${dir}: ${line}\n`),
        });
        const torn = report.badMetricLines > 0 ? `, ${report.badMetricLines} unreadable metrics.jsonl lines skipped` : '';
        process.stdout.write(
          `synced  ${dir} -> ${report.local ? `local store ${relative(process.cwd(), report.target) || '.'}, run ${report.runId} (see it with runner ui)` : report.runUrl} ` +
            `(${report.status.toLowerCase()}; metrics: ${report.metrics.uploaded} sent, ` +
            `${report.metrics.present} already there; files: ${report.artifacts.uploaded} sent, ${report.artifacts.unchanged} unchanged${torn})\n`,
        );
      } catch (error) {
        if (error instanceof MlflowError) {
          failed++;
          process.stderr.write(`runner: sync ${dir} failed: ${error.message}\n`);
          continue;
        }
        throw error;
      }
    }
    return failed === 0 ? 0 : 1;
  },
};

/** A run folder as is; an experiment folder as its run folders. */
function expandRunDirs(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`runner sync: ${path} does not exist. Pass a run folder, runs/<experiment>/<run-id>.`);
  if (looksLikeRunDir(path)) return [path];
  if (statSync(path).isDirectory()) {
    const runs = readdirSync(path)
      .sort()
      .map((name) => join(path, name))
      .filter((p) => statSync(p).isDirectory() && looksLikeRunDir(p));
    if (runs.length > 0) return runs;
  }
  throw new UserError(`runner sync: ${path} is not a run folder (no config.yaml, metrics.jsonl or tracking.json) and holds none.`);
}
