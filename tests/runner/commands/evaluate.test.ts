import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { resolveConnection } from '../../../runner/tracking/auth.ts';
import { MlflowClient } from '../../../runner/tracking/client.ts';
import { runCli } from '../../helpers/cli.ts';
import { fixture, tempDir } from '../../helpers/files.ts';
import { getTestServer, uniqueName, type TestServer } from '../../helpers/mlflow.ts';

let server: TestServer;
let client: MlflowClient;
let experiment = '';
let runDir = '';

/** The quick start trained once, tracked in the real test server (its MLflow run is what evaluations point at). */
test.before(async () => {
  server = await getTestServer();
  client = new MlflowClient(resolveConnection(server.uri, {}));
  experiment = uniqueName('evaluate');
  const runsDir = tempDir();
  const result = await runCli(['run', 'configs/quickstart.yaml', '--runs-dir', runsDir, '--quiet'], {
    env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: experiment },
  });
  assert.is(result.code, 0, result.stderr);
  runDir = join(runsDir, 'quickstart', readdirSync(join(runsDir, 'quickstart'))[0]!);
});
test.after(async () => server.stop());

const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

/** runs/get as the server returns it (inputs included). */
async function rawRun(runId: string) {
  const response = await fetch(`${server.uri}/api/2.0/mlflow/runs/get?run_id=${runId}`);
  return (await response.json()).run as {
    data: { tags?: Array<{ key: string; value: string }>; metrics?: Array<{ key: string; value: number }> };
    inputs?: { dataset_inputs?: Array<{ tags: Array<{ key: string; value: string }>; dataset: Record<string, string> }> };
  };
}

test('the training run logs its datasets (log-inputs) and its model as an MLflow logged model with metrics', async () => {
  const summary = summaryOf(runDir);
  const run = await rawRun(summary.mlflow_run_id);
  const inputs = run.inputs?.dataset_inputs ?? [];
  assert.equal(inputs.map((i) => i.tags.find((t) => t.key === 'mlflow.data.context')?.value).sort(), ['test', 'train', 'validation']);
  const train = inputs.find((i) => i.dataset.name === 'sentences-train')!;
  assert.ok(train, JSON.stringify(inputs.map((i) => i.dataset.name)));
  assert.match(train.dataset.digest!, /^[0-9a-f]{16}$/);
  assert.equal(JSON.parse(train.dataset.source!), { uri: fixture('sentences') });
  assert.is(JSON.parse(train.dataset.profile!).num_rows, 270);
  assert.is(JSON.parse(inputs.find((i) => i.dataset.name === 'sentences-test')!.dataset.profile!).num_rows, 100);

  const found = await client.getExperimentByName(experiment);
  const models = await client.searchLoggedModels([found!.experiment_id]);
  assert.is(models.length, 1);
  const model = await client.getLoggedModel(models[0]!.info.model_id);
  assert.is(model.info.status, 'LOGGED_MODEL_READY');
  assert.is(model.info.source_run_id, summary.mlflow_run_id);
  const metrics = Object.fromEntries((model.data?.metrics ?? []).map((m) => [m.key, m.value]));
  assert.is(metrics.test_accuracy, summary.metrics.test_accuracy);
  assert.is(metrics.test_macro_f1, summary.metrics.test_macro_f1);
  const files = await fetch(
    `${server.uri}/api/2.0/mlflow-artifacts/artifacts/${model.info.artifact_uri.replace(/^mlflow-artifacts:\/+/, '')}/model.json`,
  );
  assert.is(files.status, 200, 'model.json uploaded to the logged model');
  // Per-class scores of the kept model are run metrics too (sortable; usable as sweep.metric).
  const runMetrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
  for (const key of ['test_macro_f1', 'test_precision/neg', 'test_recall/pos', 'test_f1/pos', 'val_macro_f1', 'epoch'])
    assert.ok(key in runMetrics, `${key} in ${Object.keys(runMetrics).join(', ')}`);
  assert.ok(existsSync(join(runDir, 'confusion_matrix.png')));
});

test("evaluate without tracking: the same numbers as training's test evaluation, written to an evaluation folder", async () => {
  const out = join(tempDir(), 'evaluation');
  const result = await runCli(['evaluate', runDir, '--set', 'tracking=false', '--out', out, '--json']);
  assert.is(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  const summary = summaryOf(runDir);
  assert.is(json.status, 'ok');
  assert.is(json.evaluation_folder, out);
  assert.is(json.mlflow_run_id, null);
  assert.is(json.dataset.split, 'test');
  assert.ok(Math.abs(json.metrics.loss - summary.metrics.test_loss) < 1e-6, `${json.metrics.loss} vs ${summary.metrics.test_loss}`);
  assert.is(json.metrics.accuracy, summary.metrics.test_accuracy);
  assert.is(json.metrics.macro_f1, summary.metrics.test_macro_f1);
  assert.equal(json.report, JSON.parse(readFileSync(join(runDir, 'classification_report.json'), 'utf8')));
  assert.equal(JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')).metrics, json.metrics);
  assert.equal(JSON.parse(readFileSync(join(out, 'confusion_matrix.json'), 'utf8')).confusion, json.report.confusion);
  const png = PNG.sync.read(readFileSync(join(out, 'confusion_matrix.png')));
  assert.ok(png.width > 100 && png.height > 100);
});

test('evaluate on another dataset, tracked: an MLflow run tagged with the training run, with its dataset input', async () => {
  // Another dataset: the fixture's test split with one class folder renamed to the other order, fewer files.
  const other = tempDir();
  for (const label of ['pos', 'neg']) {
    const files = readdirSync(fixture('sentences', 'test', label))
      .sort()
      .slice(0, 10);
    for (const split of ['train', 'test'])
      for (const f of files) cpSync(fixture('sentences', 'test', label, f), join(other, split, label, f), { recursive: true });
  }
  const result = await runCli(['evaluate', runDir, '--set', `data.dataset.path=${other}`, '--json'], {
    env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: experiment },
  });
  assert.is(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.is(json.dataset.splits.test, 20);
  assert.is(json.evaluated_mlflow_run_id, summaryOf(runDir).mlflow_run_id);
  assert.match(json.evaluation_folder, join(runDir, 'evaluations'));
  const run = await rawRun(json.mlflow_run_id);
  const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
  assert.is(tags['runner.evaluated_run_id'], json.evaluated_mlflow_run_id);
  assert.is(tags['runner.kind'], 'evaluation');
  const metrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
  assert.is(metrics.accuracy, json.metrics.accuracy);
  assert.is(metrics['f1/neg'], json.metrics['f1/neg']);
  const inputs = run.inputs?.dataset_inputs ?? [];
  assert.is(inputs.length, 1);
  assert.is(inputs[0]!.tags[0]!.value, 'eval');
  assert.is(inputs[0]!.dataset.digest, json.dataset.digest);
});

test('evaluate: a dataset whose classes the model does not know, not a run folder; exit 2, one paragraph', async () => {
  const other = tempDir();
  for (const split of ['train', 'test'])
    for (const label of ['neg', 'pos', 'meh']) cpSync(fixture('sentences', 'test', 'neg'), join(other, split, label), { recursive: true });
  const wrong = await runCli(['evaluate', runDir, '--set', `data.dataset.path=${other}`, '--set', 'tracking=false']);
  assert.is(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, "has 3 classes (meh, neg, pos) but the model knows 2 (neg, pos); 'meh' is not among them");
  assert.not.match(wrong.stderr, /\n\s+at /);
  const json = await runCli(['evaluate', tempDir(), '--json']);
  assert.is(json.code, 2);
  assert.match(JSON.parse(json.stdout).error.message, 'is not a run folder');
});

test.run();
