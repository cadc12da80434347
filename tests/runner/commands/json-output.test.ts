import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { fixture, tempDir } from '../../helpers/files.ts';

/** stdout must be exactly one JSON document. */
const only = (stdout: string) => JSON.parse(stdout);

test('run --json: one document on stdout (status, run folder, metrics); progress on stderr', async () => {
  const runsDir = tempDir();
  const result = await runCli([
    'run',
    'configs/quickstart.yaml',
    '--set',
    'tracking=false',
    '--set',
    'train.epochs=2',
    '--runs-dir',
    runsDir,
    '--json',
  ]);
  assert.is(result.code, 0, result.stderr);
  const json = only(result.stdout);
  assert.is(json.status, 'FINISHED');
  assert.match(json.run_folder, join(runsDir, 'quickstart'));
  assert.is(json.run_id, json.run_folder.split('/').at(-1));
  assert.is(json.mlflow_run_id, null);
  const summary = JSON.parse(readFileSync(join(json.run_folder, 'summary.json'), 'utf8'));
  assert.equal(json.metrics, summary.metrics);
  assert.ok('test_macro_f1' in json.metrics);
  assert.match(result.stderr, 'epoch 2/2: train loss');
});

test('run --json: a failure still prints its document with the error (exit 2); the paragraph goes to stderr', async () => {
  const result = await runCli(['run', 'configs/quickstart.yaml', '--set', 'data.dataset.path=/nonexistent', '--json']);
  assert.is(result.code, 2);
  const json = only(result.stdout);
  assert.is(json.status, 'error');
  assert.is(json.error.exit_code, 2);
  assert.match(json.error.message, 'The text_folder dataset /nonexistent does not exist', 'found before any data loads');
  assert.match(result.stderr, '--set data.dataset.path=/nonexistent error data.dataset.path: ', 'located at the --set that named it');
  const usage = await runCli(['run', '--bogus', '--json']);
  assert.is(usage.code, 2);
  assert.is(only(usage.stdout).status, 'error');
});

test('validate --json: every config with its diagnostics (file, line, col, path, message)', async () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    readFileSync('configs/quickstart.yaml', 'utf8')
      .replace('type: textcnn', 'type: textcn')
      .replace('../tests/fixtures/sentences', fixture('sentences')),
  );
  const result = await runCli(['validate', 'configs/quickstart.yaml', bad, '--json']);
  assert.is(result.code, 2);
  const json = only(result.stdout);
  assert.is(json.status, 'invalid');
  assert.equal(json.configs[0], { file: 'configs/quickstart.yaml', valid: true, warnings: [], diagnostics: [] });
  const [d] = json.configs[1].diagnostics;
  assert.equal([d.file, d.line, d.col, d.path, d.severity], [bad, 14, 15, 'model.type', 'error']);
  assert.match(d.message, "Did you mean 'textcnn'?");
  assert.match(result.stderr, `invalid ${bad}`);
});

test('sweep --json --dry-run: the trials as one document; the plan for people on stderr; --emit refuses --json', async () => {
  const dir = tempDir();
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    readFileSync('configs/quickstart.yaml', 'utf8').replace('../tests/fixtures/sentences', fixture('sentences')) +
      'sweep:\n  matrix:\n    optimizer.lr: [0.001, 0.003]\n',
  );
  const result = await runCli(['sweep', file, '--dry-run', '--json', '--runs-dir', tempDir()]);
  assert.is(result.code, 0, result.stderr);
  const json = only(result.stdout);
  assert.is(json.status, 'DRY_RUN');
  assert.equal(
    json.trials.map((t: { index: number }) => t.index),
    [0, 1],
  );
  assert.match(json.trials[1].label, 'optimizer.lr=0.003');
  const emit = await runCli(['sweep', file, '--emit', 'slurm', '--json']);
  assert.is(emit.code, 2);
  assert.match(only(emit.stdout).error.message, '--json does not go with --emit');
});

test.run();
