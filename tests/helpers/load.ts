// Many runner processes on one fresh local store at once, started together: `runner run`s, a sweep with
// max_parallel > 1 and `runner ui`; then every run is checked against MLflow. Used by the load test
// (tests/runner/commands/shared-store.test.ts, small) and the benchmark (bench/shared-store.ts, large).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConnection } from '../../runner/tracking/auth.ts';
import { MlflowClient } from '../../runner/tracking/client.ts';
import { readRunRecord } from '../../runner/tracking/run-record.ts';
import { freePort } from '../../runner/tracking/server.ts';
import { assertHistoriesEqualFile } from '../runner/tracking/run-sim.ts';
import { sweepFile, tinyExperimentYaml } from '../runner/sweep/fixture.ts';
import { type CliResult, runCli, startUi } from './cli.ts';
import { tempDir, writeTree } from './files.ts';

/** Options of runLoad. */
export interface LoadOptions {
  /** Concurrent `runner run` processes. */
  runs: number;
  /** Trials of the sweep (0: no sweep); it runs them all at once (max_parallel = trials). */
  sweepTrials: number;
  /** The train section of every run and trial (flow mapping). */
  train: string;
  /** Start `runner ui` with them (default true). */
  ui?: boolean;
  /** Track (default true); false runs the same load with `tracking: false`, for comparison. */
  tracking?: boolean;
}

/** One tracked run of the load: its folder, what its process said, and its training time. */
export interface LoadRun {
  runDir: string;
  /** Sum of epoch_time_s + eval_time_s in metrics.jsonl (the training loop's own clock). */
  trainSeconds: number;
}

/** What happened. */
export interface LoadResult {
  runsDir: string;
  storeDir: string;
  /** Wall time from the start of all processes to the end of the last run (not the UI), s. */
  wallSeconds: number;
  results: { what: string; result: CliResult }[];
  runs: LoadRun[];
  /** The address `runner ui` printed. */
  uiUri?: string;
  /** Everything that went wrong (empty: every run tracked live, statuses right, histories equal metrics.jsonl). */
  problems: string[];
}

/** Starts the load on a fresh runs folder, waits for it, checks every run in MLflow (through the UI's server). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dir = tempDir('runner-load-');
  const runsDir = join(dir, 'runs');
  const storeDir = join(runsDir, 'mlflow');
  const tracking = options.tracking ?? true;
  const uri = tracking ? undefined : false;
  writeTree(dir, { 'run.yaml': tinyExperimentYaml({ name: 'load-run', uri, train: options.train }) });
  const lrs = Array.from({ length: options.sweepTrials }, (_, i) => (0.01 * (i + 1)).toFixed(2));
  const sweep =
    options.sweepTrials > 0
      ? sweepFile(dir, {
          name: 'load-sweep',
          uri,
          train: options.train,
          sweep: `  matrix:\n    optimizer.lr: [${lrs.join(', ')}]\n  max_parallel: ${options.sweepTrials}`,
        })
      : undefined;
  const env = { MLFLOW_TRACKING_URI: '', MLFLOW_EXPERIMENT_NAME: '' }; // the local store
  const problems: string[] = [];

  const ui = (options.ui ?? true) ? startUi(storeDir, await freePort(), env) : undefined;
  const started = performance.now();
  const work = [
    ...Array.from({ length: options.runs }, (_, i) => ({
      what: `runner run #${i}`,
      done: runCli(['run', join(dir, 'run.yaml'), '--runs-dir', runsDir], { env }),
    })),
    ...(sweep ? [{ what: 'runner sweep', done: runCli(['sweep', sweep, '--runs-dir', runsDir], { env }) }] : []),
  ];
  const results = await Promise.all(work.map(async (w) => ({ what: w.what, result: await w.done })));
  const wallSeconds = (performance.now() - started) / 1000;
  const uiUri = await ui?.uri;

  for (const { what, result } of results) {
    if (result.code !== 0) problems.push(`${what} exited ${result.code ?? result.signal}: ${result.stderr.slice(-2000)}`);
    const text = result.stdout + result.stderr;
    for (const bad of [/database is locked/i, /did not start/, /runner sync/, /not reachable/, /did not answer/])
      if (bad.test(text)) problems.push(`${what} said ${bad}: ${text.split('\n').find((l) => bad.test(l))}`);
  }

  const runDirs = [join(runsDir, 'load-run'), join(runsDir, 'load-sweep')]
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).map((name) => join(d, name)))
    .filter((d) => existsSync(join(d, 'metrics.jsonl')));
  if (runDirs.length !== options.runs + options.sweepTrials)
    problems.push(`${runDirs.length} run folders, expected ${options.runs + options.sweepTrials}`);
  const runs = runDirs.map((runDir) => ({ runDir, trainSeconds: trainSeconds(runDir) }));

  if (tracking) {
    const client = uiUri ? new MlflowClient(resolveConnection(uiUri, {})) : undefined;
    if (!client) problems.push(`runner ui printed no address: ${(await ui?.done)?.stderr ?? 'not started'}`);
    for (const { runDir } of runs) {
      const record = readRunRecord(runDir);
      if (!record?.run_id) {
        problems.push(`${runDir}: no MLflow run`);
        continue;
      }
      if (!record.synced) problems.push(`${runDir}: not all sent live (tracking.json synced: false)`);
      if (!client) continue;
      const run = await client.getRun(record.run_id);
      if (run?.info.status !== 'FINISHED') problems.push(`${runDir}: MLflow status ${run?.info.status}`);
      try {
        await assertHistoriesEqualFile(client, record.run_id, runDir);
      } catch (error) {
        problems.push(`${runDir}: ${(error as Error).message}`);
      }
    }
  }
  ui?.stop();
  const uiResult = await ui?.done;
  if (uiResult && uiResult.code !== 0) problems.push(`runner ui exited ${uiResult.code}: ${uiResult.stderr}`);
  const log = existsSync(join(storeDir, 'server.log')) ? readFileSync(join(storeDir, 'server.log'), 'utf8') : '';
  if (/database is locked/i.test(log)) problems.push('the server log says "database is locked"');
  const starts = log.match(/^--- .* starts mlflow server/gm)?.length ?? 0;
  if (tracking && starts !== 1) problems.push(`the store's server was started ${starts} times, not once`);
  for (const leftover of ['server.json', 'server.lock'])
    if (existsSync(join(storeDir, leftover))) problems.push(`${leftover} left in the store after every process ended`);
  return { runsDir, storeDir, wallSeconds, results, runs, uiUri, problems };
}

function trainSeconds(runDir: string): number {
  let total = 0;
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const metrics = (JSON.parse(line) as { metrics?: Record<string, number> }).metrics ?? {};
    total += (metrics.epoch_time_s ?? 0) + (metrics.eval_time_s ?? 0);
  }
  return total;
}
