import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseCommandArgs } from '../cli-args.ts';
import { UserError } from '../errors.ts';
import { MlflowError } from '../tracking/client.ts';
import { describeOwner } from '../common/owner.ts';
import { closeDeadSweep, looksLikeSweepDir } from '../sweep/orphan.ts';
import { type LeftRunning, looksLikeRunDir, StillRunningError, syncRunFolder } from '../tracking/sync.ts';
import type { Command } from './command.ts';

/** `runner sync`: uploads run folders to MLflow, idempotently. */
export const command: Command = {
  help: `Usage: runner sync <run-folder | experiment-folder | sweep-folder>... [--uri <mlflow-uri>] [--local]

Uploads everything of each run folder (runs/<experiment>/<run-id>) to MLflow: the run itself
(found again by its recorded id or client key, else created), params and tags, every point of
metrics.jsonl that the run's metric histories lack, the folder's files as artifacts (changed ones
only), and the run's status and end time. Safe to repeat: a second sync sends nothing twice.
An experiment folder (runs/<experiment>) syncs every run folder and sweep folder in it; a folder of
experiment folders (runs) syncs them all.

A run left RUNNING because its process was killed hard (SIGKILL, a crash) is ended KILLED, in MLflow
and in its folder, at the time of its last write, with every metric it wrote; a line says so. The
process is recorded in the run folder (owner.json): one still running on this host is not synced
(skipped among others), one on another host cannot be checked and stays RUNNING. A sweep folder
(runs/<experiment>/sweeps/<hash>) whose sweep process is gone gets its parent run ended KILLED.

Where to: --uri, else where the run was tracked (its tracking.json), else MLFLOW_TRACKING_URI,
else the local store under runs/mlflow (a local MLflow server is started for the sync).
Credentials: MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN.

Options:
  --uri <uri>   send to this MLflow server (http or https)
  --local       send to the local store under runs/mlflow

Examples:
  runner sync runs/quickstart/2025-11-29T10-00-00-abc123
  runner sync runs/quickstart --uri https://mlflow.example.com
  runner sync runs`,
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
    const dirs = positionals.flatMap(expandSyncDirs);
    const options = { uri: values.uri, local: values.local };
    let failed = 0;
    for (const dir of dirs) {
      try {
        if (looksLikeSweepDir(dir)) {
          const report = await closeDeadSweep(dir, options);
          const line = leftRunningLine(dir, report.leftRunning, report.parentRunId ? `its parent run ${report.parentRunId}` : 'the sweep');
          if (line) process.stdout.write(line);
          else if (dirs.length === 1) process.stdout.write(`ok      ${dir}: the sweep is not left RUNNING; nothing to close\n`);
          continue;
        }
        const report = await syncRunFolder(dir, { ...options, log: (line) => process.stderr.write(`sync ${dir}: ${line}\n`) });
        process.stdout.write(leftRunningLine(dir, report.leftRunning, `run ${report.runId}`));
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
        if (error instanceof StillRunningError && dirs.length > 1) {
          process.stdout.write(`skipped ${dir}: ${error.message}\n`);
          continue;
        }
        throw error;
      }
    }
    return failed === 0 ? 0 : 1;
  },
};

/** What sync did about a run or sweep left RUNNING, as a line ('' when it was not). */
function leftRunningLine(dir: string, left: LeftRunning | undefined, what: string): string {
  if (!left) return '';
  const owner = left.owner ? describeOwner(left.owner) : 'its process (not recorded)';
  if (left.action === 'elsewhere') {
    return `running ${dir}: ${what} stays RUNNING: ${owner} cannot be checked from this host; sync it there, or once it has ended\n`;
  }
  const when = left.endTime ? ` at ${new Date(left.endTime).toISOString()} (its last write)` : '';
  return `closed  ${dir}: ${owner} is gone (killed hard or crashed), so ${what} ended KILLED${when}\n`;
}

/**
 * A run folder or a sweep folder as is; an experiment folder as its run folders and sweep folders (sweeps/*); a folder
 * of experiment folders (runs/) as all of theirs.
 */
function expandSyncDirs(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`runner sync: ${path} does not exist. Pass a run folder, runs/<experiment>/<run-id>.`);
  if (looksLikeRunDir(path) || looksLikeSweepDir(path)) return [path];
  const found = experimentDirs(path);
  const dirs = found.length > 0 ? found : subfolders(path).flatMap(experimentDirs);
  if (dirs.length > 0) return dirs;
  throw new UserError(
    `runner sync: ${path} is not a run folder (no config.yaml, metrics.jsonl or tracking.json) or a sweep folder, and holds none.`,
  );
}

/** The run folders and sweep folders of an experiment folder. */
function experimentDirs(path: string): string[] {
  return [...subfolders(path).filter(looksLikeRunDir), ...subfolders(join(path, 'sweeps')).filter(looksLikeSweepDir)];
}

function subfolders(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) return [];
  return readdirSync(path)
    .sort()
    .map((name) => join(path, name))
    .filter((p) => statSync(p).isDirectory());
}
