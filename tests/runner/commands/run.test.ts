import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { interruptAfterMetrics, runCli } from '../../helpers/cli.ts';
import { TEXT_RUN_FILES } from '../../helpers/experiment.ts';
import { fixture, tempDir } from '../../helpers/files.ts';

function onlyRunDir(runsDir: string, experiment: string): string {
  const runs = readdirSync(join(runsDir, experiment));
  assert.is(runs.length, 1);
  return join(runsDir, experiment, runs[0]!);
}

const readMetrics = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { step: number; epoch: number; metrics: Record<string, number> });

test('runner run configs/quickstart.yaml: trains on the native backend and writes the run folder', async () => {
  const runsDir = tempDir();
  const result = await runCli(['run', 'configs/quickstart.yaml', '--runs-dir', runsDir, '--set', 'tracking=false']);
  assert.is(result.code, 0, result.stderr);
  const runDir = onlyRunDir(runsDir, 'quickstart');
  for (const file of TEXT_RUN_FILES) assert.ok(existsSync(join(runDir, file)), `${file} missing`);
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.is(summary.status, 'FINISHED');
  assert.is(summary.epochs_completed, 5);
  assert.ok(summary.metrics.test_accuracy >= 0.8, `test accuracy ${summary.metrics.test_accuracy}`);
  if (process.env.CI) assert.is(summary.backend.kind, 'native-cpu');
  assert.match(summary.config_hash, /^[0-9a-f]{64}$/);
  const epochs = readMetrics(runDir).filter((r) => 'val_accuracy' in r.metrics);
  assert.equal(
    epochs.map((r) => r.epoch),
    [1, 2, 3, 4, 5],
  );
  assert.is(readFileSync(join(runDir, 'vocab.txt'), 'utf8').split('\n')[0], '<pad>');
  assert.match(readFileSync(join(runDir, 'config.yaml'), 'utf8'), /tracking: false/);
  assert.match(result.stderr, /epoch 5\/5: train loss/);
});

test('bad config: exit 2, file:line:col and a suggestion, no stack trace', async () => {
  const dir = tempDir();
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, readFileSync('configs/quickstart.yaml', 'utf8').replace('type: textcnn', 'type: textcn'));
  const result = await runCli(['run', file]);
  assert.is(result.code, 2);
  assert.match(result.stderr, `${file}:14:`);
  assert.match(result.stderr, "Did you mean 'textcnn'?");
  assert.not.match(result.stderr, /\n\s+at /);
});

test('bad data: exit 2 with one paragraph at the key that named the data; --debug shows the stack', async () => {
  const empty = tempDir(); // exists (the static check passes), but holds no train/ split: only loading finds that
  const args = ['run', 'configs/quickstart.yaml', '--set', `data.dataset.path=${empty}`];
  const plain = await runCli(args);
  assert.is(plain.code, 2);
  assert.match(plain.stderr, `The 'train' split folder ${empty}/train does not exist`, plain.stderr);
  assert.match(plain.stderr, /--set data\.dataset\.path=\S+ error data\.dataset\.path: /, 'located at the --set that named the data');
  assert.not.match(plain.stderr, /\n\s+at /);
  const debug = await runCli([...args, '--debug']);
  assert.match(debug.stderr, /\n\s+at /);
});

test('CLI usage errors exit 2; --help works everywhere', async () => {
  assert.is((await runCli(['rnu'])).code, 2);
  assert.match((await runCli(['rnu'])).stderr, "Did you mean 'run'?");
  assert.is((await runCli(['run', '--bogus', 'x.yaml'])).code, 2);
  for (const command of ['run', 'validate', 'components', 'schema']) {
    const help = await runCli([command, '--help']);
    assert.is(help.code, 0);
    assert.match(help.stdout, `Usage: runner ${command}`);
  }
});

test('--dry-run prints the resolved config, the model and its parameter groups, and trains nothing', async () => {
  const runsDir = tempDir();
  const result = await runCli(['run', 'configs/quickstart.yaml', '--dry-run', '--runs-dir', runsDir]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, 'parameter groups:');
  assert.match(result.stderr, /head: lr 0\.01.*\n\s+dense\/kernel/);
  assert.match(result.stderr, 'constant_embedding/embeddings');
  assert.match(
    result.stderr,
    /data: 270 train \/ 30 validation \(fraction 0\.1 of train \(stratified, seed 0\)\) \/ 100 test examples, 2 classes \(neg, pos\), vocabulary \d+, input shape \[40\]/,
  );
  assert.match(result.stderr, "monitor: val_loss (minimize); the best epoch's weights are restored at the end");
  assert.match(result.stderr, 'test split: once at the end on the model that is kept');
  assert.match(result.stderr, 'learning rates: constant; at the start default 0.001, head 0.01');
  assert.not.ok(existsSync(join(runsDir, 'quickstart')));
});

/** configs/quickstart.yaml in a fresh folder, with its dataset path made absolute and `edit` applied. */
function quickstartCopy(edit: (yaml: string) => string): string {
  const file = join(tempDir(), 'experiment.yaml');
  const yaml = readFileSync('configs/quickstart.yaml', 'utf8').replace('../tests/fixtures/sentences', fixture('sentences'));
  writeFileSync(file, edit(yaml));
  return file;
}

/** `file:line:col` of the first occurrence of `text` in the file. */
function positionOf(file: string, text: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${file}:${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

test('--dry-run with data.validation: the data line gives train / validation / test counts and how the split was made', async () => {
  const file = quickstartCopy((yaml) => yaml.replace(/  validation: .*\n/, '  validation: {fraction: 0.25, seed: 1}\n'));
  const result = await runCli(['run', file, '--dry-run', '--runs-dir', tempDir()]);
  assert.is(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    'data: 225 train / 75 validation (fraction 0.25 of train (stratified, seed 1)) / 100 test examples, 2 classes (neg, pos)',
  );
});

test('validation problems found while building are located at their config key (file:line:col)', async () => {
  const tiny = quickstartCopy((yaml) => yaml.replace(/  validation: .*\n/, '  validation: {fraction: 0.001}\n'));
  const result = await runCli(['run', tiny, '--dry-run']);
  assert.is(result.code, 2, result.stderr);
  assert.match(result.stderr, `${positionOf(tiny, '0.001')} error data.validation.fraction: holding out 0.001 of the 300`);
  assert.match(result.stderr, /get no validation example/);
  assert.not.match(result.stderr, /\n\s+at /);

  const missing = quickstartCopy((yaml) =>
    yaml.replace(/  validation: .*\n/, '').replace(/(dataset: \{type: text_folder, path: [^}]+)\}/, '$1, validation_split: nope}'),
  );
  const folder = await runCli(['run', missing, '--dry-run']);
  assert.is(folder.code, 2, folder.stderr);
  assert.match(folder.stderr, `${positionOf(missing, 'nope')} error data.dataset.validation_split: The 'nope' split folder`);
});

for (const [signal, code, who] of [
  ['SIGINT', 130, 'Ctrl-C'],
  ['SIGTERM', 143, 'SIGTERM (kill, Kubernetes)'],
] as const) {
  test(`${who}: the run ends KILLED with exit ${code} and its metrics on disk`, async () => {
    const runsDir = tempDir();
    let interrupted: Promise<boolean> = Promise.resolve(false);
    const result = await runCli(
      ['run', 'configs/quickstart.yaml', '--runs-dir', runsDir, '--set', 'train.epochs=500', '--set', 'tracking=false'],
      {
        onStart: (child) => (interrupted = interruptAfterMetrics(child, runsDir, 'quickstart', 3, signal)),
      },
    );
    assert.ok(await interrupted, 'never saw metrics');
    assert.is(result.code, code, result.stderr);
    const runDir = onlyRunDir(runsDir, 'quickstart');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    assert.is(summary.status, 'KILLED');
    assert.ok(readMetrics(runDir).length >= 3);
  });
}

test('runner validate: ok and invalid files, exit code 2 when any is invalid', async () => {
  const ok = await runCli(['validate', 'configs/quickstart.yaml']);
  assert.is(ok.code, 0);
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.yaml'), 'name: x\n');
  const bad = await runCli(['validate', 'configs/quickstart.yaml', join(dir, 'bad.yaml')]);
  assert.is(bad.code, 2);
  assert.match(bad.stdout, "missing required key 'data'");
});

test('runner components lists every kind with params and defaults', async () => {
  const result = await runCli(['components']);
  assert.is(result.code, 0);
  assert.match(result.stdout, /model:\n\s+textcnn/);
  assert.match(result.stdout, /kernel_sizes \(list of integer, default \[3,4,5\]\)/);
});

test.run();
