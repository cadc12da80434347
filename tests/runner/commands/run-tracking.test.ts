import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient, type Run } from '../../../runner/tracking/client.ts';
import { interruptAfterMetrics, runCli } from '../../helpers/cli.ts';
import { TEXT_RUN_FILES } from '../../helpers/experiment.ts';
import { tempDir } from '../../helpers/files.ts';
import { getTestServer, uniqueName, type TestServer } from '../../helpers/mlflow.ts';
import { assertHistoriesEqualFile } from '../tracking/run-sim.ts';

let server: TestServer;
let client: MlflowClient;

test.before(async () => {
  server = await getTestServer();
  client = new MlflowClient(resolveConnection(server.uri, {}));
});
test.after(async () => server.stop());

/** Runs the quick start against the test server in experiment `experiment`; returns the CLI result and the run folder. */
async function quickstart(experiment: string, args: string[], onStart?: (child: ChildProcess, runsDir: string) => void) {
  const runsDir = tempDir();
  const result = await runCli(['run', 'configs/quickstart.yaml', '--runs-dir', runsDir, ...args], {
    env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: experiment },
    onStart: onStart ? (child) => onStart(child, runsDir) : undefined,
  });
  const experimentDir = join(runsDir, 'quickstart');
  const runDir = existsSync(experimentDir) ? join(experimentDir, readdirSync(experimentDir)[0]!) : '';
  return { result, runDir, runsDir };
}

async function onlyRun(experiment: string): Promise<Run> {
  const found = await client.getExperimentByName(experiment);
  assert.ok(found, `experiment ${experiment} exists`);
  const runs = await client.searchRuns({ experimentIds: [found.experiment_id] });
  assert.is(runs.length, 1);
  return runs[0]!;
}

test('a quick-start run appears in MLflow with params, full metric histories, tags and artifacts', async () => {
  const experiment = uniqueName('e2e');
  const { result, runDir } = await quickstart(experiment, ['--set', 'description=end to end']);
  assert.is(result.code, 0, result.stderr);
  const run = await onlyRun(experiment);
  assert.is(run.info.status, 'FINISHED');
  const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
  assert.is(params['optimizer.lr'], '0.001');
  assert.is(params['optimizer.param_groups.0.lr_mult'], '10');
  assert.is(params['model.type'], 'textcnn');
  const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.is(tags['runner.config_hash'], summary.config_hash);
  assert.is(tags['mlflow.note.content'], 'end to end');
  assert.match(tags['runner.backend'] ?? '', /native CPU|pure JS/);
  assert.is(summary.mlflow_run_id, run.info.run_id);
  const points = await assertHistoriesEqualFile(client, run.info.run_id, runDir);
  assert.ok(points > 20, `${points} metric points`);
  const files = (await client.listArtifactFiles(run.info.run_id)).map((f) => f.path);
  for (const file of TEXT_RUN_FILES) assert.ok(files.includes(file), `artifact ${file} (have ${files.join(', ')})`);
});

test('Ctrl-C during training: the MLflow run ends KILLED with the metrics so far', async () => {
  const experiment = uniqueName('e2e-kill');
  let interrupted: Promise<boolean> = Promise.resolve(false);
  const { result, runsDir } = await quickstart(experiment, ['--set', 'train.epochs=500'], (child, runsDir) => {
    interrupted = interruptAfterMetrics(child, runsDir, 'quickstart', 5);
  });
  assert.ok(await interrupted, 'never saw metrics');
  assert.is(result.code, 130, result.stderr);
  const run = await onlyRun(experiment);
  assert.is(run.info.status, 'KILLED');
  const dir = join(runsDir, 'quickstart');
  await assertHistoriesEqualFile(client, run.info.run_id, join(dir, readdirSync(dir)[0]!));
});

test.run();
