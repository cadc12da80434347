import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../../helpers/cli.ts';
import { join } from 'node:path';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';
import { sweepFile } from '../sweep/fixture.ts';

test('runner validate expands a sweep and checks every trial, as runner sweep --dry-run does', async () => {
  const dir = tempDir();
  // The base alone is invalid (epochs: 0); every trial sets a valid value, so the sweep is valid.
  const good = sweepFile(dir, {
    name: 'v',
    uri: false,
    train: '{epochs: 0}',
    sweep: '  matrix:\n    train.epochs: [1, 2]\n    optimizer.lr: [0.01, 0.001]',
  });
  const bad = sweepFile(dir, { name: 'v', uri: false, file: 'bad.yaml', sweep: '  matrix:\n    optimizer.lr: [0.01, abc, 0.1]' });

  const ok = await runCli(['validate', good, 'configs/quickstart.yaml']);
  assert.is(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, `ok      ${good}: sweep of 4 trials, every resolved config valid\n`);
  assert.match(ok.stdout, 'ok      configs/quickstart.yaml\n');

  const invalid = await runCli(['validate', good, bad]);
  assert.is(invalid.code, 2);
  assert.match(invalid.stdout, `ok      ${good}: sweep of 4 trials`);
  assert.match(invalid.stdout, `invalid ${bad}\n`);
  assert.match(invalid.stdout, `${bad}:13:`, 'located at the sweep value');
  assert.match(invalid.stdout, 'optimizer.lr');
  assert.match(invalid.stdout, '(in trial 1 of the sweep)');
  assert.not.match(invalid.stdout + invalid.stderr, /\n\s+at /, 'no stack trace');
  const dry = await runCli(['sweep', bad, '--dry-run']);
  assert.is(dry.code, 2);
  assert.ok(dry.stderr.includes(invalid.stdout.split(`invalid ${bad}\n`)[1]!.trim()), 'the same diagnostics as the dry run');
});

test('validate and run report what the static check finds, located, all at once, before any data loads', async () => {
  const dir = tempDir();
  const file = join(
    writeTree(dir, {
      'c.yaml': `name: c
data: {dataset: {type: text_folder, path: ${fixture('sentences')}}, max_len: 8}
model: {type: textcnn, embed_size: 4, kernel_sizes: [3, 4, 5], num_channels: [2, 2]}
optimizer: {type: sgd, nesterov: true}
train: {epochs: 1, device: cpu}
tracking: false
`,
    }),
    'c.yaml',
  );
  const validate = await runCli(['validate', file]);
  assert.is(validate.code, 2, validate.stdout + validate.stderr);
  assert.match(validate.stdout, `${file}:3:78 error model.num_channels: textcnn: kernel_sizes has 3 entries but num_channels has 2`);
  assert.match(validate.stdout, '  > 3 | model: {type: textcnn');
  assert.match(validate.stdout, `${file}:4:34 error optimizer.nesterov: sgd: nesterov needs momentum > 0`);
  assert.match(validate.stdout, '2 problems in the config.');
  const run = await runCli(['run', file, '--runs-dir', join(dir, 'runs')]);
  assert.is(run.code, 2);
  assert.match(run.stderr, `${file}:3:78 error model.num_channels`);
  assert.not.match(run.stderr, 'examples', 'stopped before the data loaded');
  assert.not.match(run.stdout + run.stderr + validate.stderr, /\n\s+at /, 'no stack trace');
});

test.run();
