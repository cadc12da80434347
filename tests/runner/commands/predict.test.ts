import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { fixture, tempDir } from '../../helpers/files.ts';
import { imageDatasetFiles, writeImageDataset } from '../../components/dataset/image-fixtures.ts';

interface PredictJson {
  status: string;
  run_folder: string;
  classes: string[];
  predictions: Array<{ input: string; text?: string; label: string; probabilities: Record<string, number> }>;
  skipped: Array<{ input: string; error: string }>;
  error?: { message: string; exit_code: number };
}

let runDir = '';

/** Trains the quick start once (tracking off, a temp runs folder) and returns its run folder. */
test.before(async () => {
  const runsDir = tempDir();
  const result = await runCli(['run', 'configs/quickstart.yaml', '--set', 'tracking=false', '--runs-dir', runsDir, '--quiet']);
  assert.is(result.code, 0, result.stderr);
  runDir = join(runsDir, 'quickstart', readdirSync(join(runsDir, 'quickstart'))[0]!);
});

const predictJson = async (args: string[], input?: string | Uint8Array) => {
  const result = await runCli(['predict', ...args, '--json'], { input });
  return { ...result, json: JSON.parse(result.stdout) as PredictJson };
};

const noStack = (stderr: string) => assert.not.match(stderr, /\n\s+at /);

test('texts as arguments: a table for people, labels and probabilities', async () => {
  const result = await runCli(['predict', runDir, 'this movie is so great', 'a dull and boring film']);
  assert.is(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0]!, /^label\s+p\(neg\)\s+p\(pos\)\s+input$/);
  assert.is(lines.length, 3);
  assert.match(lines[1]!, /^(neg|pos)\s+0\.\d{3}\s+0\.\d{3}\s+this movie is so great$/);
});

test('--json: exactly one document on stdout; the label is the most probable class; probabilities sum to 1', async () => {
  const { code, json, stderr } = await predictJson([runDir, 'this movie is so great', '']);
  assert.is(code, 0, stderr);
  assert.is(json.status, 'ok');
  assert.is(json.run_folder, runDir);
  assert.equal(json.classes, ['neg', 'pos']);
  assert.equal(json.skipped, []);
  assert.equal(
    json.predictions.map((p) => [p.input, p.text]),
    [
      ['argument 1', 'this movie is so great'],
      ['argument 2', ''], // an empty text: an all-padding input, still predicted
    ],
  );
  for (const p of json.predictions) {
    const values = Object.values(p.probabilities);
    assert.ok(Math.abs(values[0]! + values[1]! - 1) < 1e-4, JSON.stringify(p));
    assert.is(p.label, values[0]! >= values[1]! ? 'neg' : 'pos');
  }
});

/** The fixture's test texts and labels, as files in class folders. */
function fixtureTestSplit(): { texts: string[]; labels: string[] } {
  const texts: string[] = [];
  const labels: string[] = [];
  for (const label of ['neg', 'pos']) {
    const dir = fixture('sentences', 'test', label);
    for (const file of readdirSync(dir).sort()) {
      texts.push(readFileSync(join(dir, file), 'utf8').replace(/\s+/g, ' ').trim());
      labels.push(label);
    }
  }
  return { texts, labels };
}

test("stdin and --file (lines, CSV column) prepare texts as training did: test accuracy equals the run's", async () => {
  const { texts, labels } = fixtureTestSplit();
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  const accuracy = (json: PredictJson) => json.predictions.filter((p, i) => p.label === labels[i]).length / labels.length;
  const fromStdin = await predictJson([runDir], texts.join('\n') + '\n');
  assert.is(fromStdin.code, 0, fromStdin.stderr);
  assert.is(fromStdin.json.predictions.length, texts.length);
  assert.is(fromStdin.json.predictions[2]!.input, 'stdin line 3');
  assert.is(accuracy(fromStdin.json), summary.metrics.test_accuracy);

  const dir = tempDir();
  writeFileSync(join(dir, 'reviews.txt'), texts.join('\r\n'));
  const fromLines = await predictJson([runDir, '--file', join(dir, 'reviews.txt')]);
  assert.equal(
    fromLines.json.predictions,
    fromStdin.json.predictions.map((p, i) => ({ ...p, input: `${join(dir, 'reviews.txt')} line ${i + 1}` })),
  );

  const csv = 'id,review\n' + texts.map((t, i) => `${i},"${t.replace(/"/g, '""')}"`).join('\n') + '\n';
  writeFileSync(join(dir, 'reviews.csv'), csv);
  const fromCsv = await predictJson([runDir, '--file', join(dir, 'reviews.csv'), '--column', 'review']);
  assert.is(fromCsv.code, 0, fromCsv.stderr);
  assert.equal(
    fromCsv.json.predictions.map((p) => p.label),
    fromStdin.json.predictions.map((p) => p.label),
  );
  assert.is(fromCsv.json.predictions[0]!.input, `${join(dir, 'reviews.csv')} row 1`);
});

test('a run folder copied elsewhere predicts the same, without its dataset', async () => {
  const copy = join(tempDir(), 'copied-run');
  cpSync(runDir, copy, { recursive: true });
  const config = join(copy, 'config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/path: .*sentences.*/, 'path: /nonexistent/sentences'));
  const texts = ['this movie is so great', 'a dull and boring film', 'never again'];
  const original = await predictJson([runDir, ...texts]);
  const copied = await predictJson([copy, ...texts]);
  assert.is(copied.code, 0, copied.stderr);
  assert.equal(copied.json.predictions, original.json.predictions);
});

test('bad inputs: an empty line, a line in another encoding; each named (exit 2, no stack); --skip-bad warns and goes on', async () => {
  const input = Buffer.concat([Buffer.from('a great film\n\n'), Buffer.from('caf\xe9 cr\xe8me\n', 'latin1'), Buffer.from('awful\n')]);
  const empty = await predictJson([runDir], input);
  assert.is(empty.code, 2);
  assert.is(empty.json.status, 'error');
  assert.match(empty.json.error!.message, 'stdin line 2 is empty');
  assert.match(empty.stderr, 'runner: stdin line 2 is empty');
  noStack(empty.stderr);

  const latin = await runCli(['predict', runDir], { input: Buffer.concat([Buffer.from('ok\n'), Buffer.from('caf\xe9\n', 'latin1')]) });
  assert.is(latin.code, 2);
  assert.match(latin.stderr, 'stdin line 2 is not UTF-8 text');
  noStack(latin.stderr);

  const skipped = await predictJson([runDir, '--skip-bad'], input);
  assert.is(skipped.code, 0, skipped.stderr);
  assert.equal(
    skipped.json.predictions.map((p) => p.input),
    ['stdin line 1', 'stdin line 4'],
  );
  assert.equal(
    skipped.json.skipped.map((s) => s.input),
    ['stdin line 2', 'stdin line 3'],
  );
  assert.match(skipped.stderr, 'warning: skipped stdin line 2: it is empty');
  assert.match(skipped.stderr, 'warning: skipped stdin line 3: it is not UTF-8 text');
});

test('bad run folders: no saved model, a class count that does not match the model, not a run folder', async () => {
  const noModel = join(tempDir(), 'killed');
  cpSync(runDir, noModel, { recursive: true });
  rmSync(join(noModel, 'model'), { recursive: true });
  const killed = await predictJson([noModel, 'text']);
  assert.is(killed.code, 2);
  assert.match(killed.json.error!.message, `The run folder ${noModel} has no saved model`);
  noStack(killed.stderr);

  const mismatch = join(tempDir(), 'mismatch');
  cpSync(runDir, mismatch, { recursive: true });
  writeFileSync(join(mismatch, 'classes.json'), JSON.stringify(['neg', 'neutral', 'pos']));
  const wrong = await runCli(['predict', mismatch, 'text']);
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, 'names 3 classes (neg, neutral, pos) but its model has 2 outputs');
  noStack(wrong.stderr);

  const notRun = await runCli(['predict', tempDir(), 'text']);
  assert.is(notRun.code, 2);
  assert.match(notRun.stderr, 'is not a run folder');
});

test('an image run predicts image paths and globs with the test-split steps; an image that does not decode is named', async () => {
  const data = writeImageDataset(tempDir(), imageDatasetFiles({ perClass: 6 }));
  const dir = tempDir();
  const config = join(dir, 'images.yaml');
  writeFileSync(
    config,
    `name: images
seed: 0
data:
  dataset: {type: image_folder, path: ${JSON.stringify(data)}, image_size: 12}
  augmentation:
    - {type: random_horizontal_flip}
    - {type: center_crop, size: 10, apply_to: both}
    - {type: normalize, scale: [-1, 1]}
  batch_size: 4
model: {type: small_cnn, channels: [4], batch_norm: false, head: {units: [8]}}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 3}
tracking: false
`,
  );
  const runsDir = tempDir();
  const trained = await runCli(['run', config, '--runs-dir', runsDir, '--quiet']);
  assert.is(trained.code, 0, trained.stderr);
  const imageRun = join(runsDir, 'images', readdirSync(join(runsDir, 'images'))[0]!);
  const report = JSON.parse(readFileSync(join(imageRun, 'classification_report.json'), 'utf8'));
  writeFileSync(join(dir, 'broken.png'), 'not an image');

  const { code, json, stderr } = await predictJson([imageRun, join(data, 'test', 'cats', '*'), join(data, 'test', 'dogs', '0?.*')]);
  assert.is(code, 0, stderr);
  assert.is(json.predictions.length, 12);
  assert.is(json.predictions[0]!.input, join(data, 'test', 'cats', '00.png'));
  const correct = json.predictions.filter((p) => p.input.includes(`/${p.label}/`)).length;
  assert.is(correct / 12, report.accuracy, 'the same preparation as the test split in training');

  const broken = await runCli(['predict', imageRun, join(dir, 'broken.png')]);
  assert.is(broken.code, 2);
  assert.match(broken.stderr, `${join(dir, 'broken.png')} is not a JPEG or PNG image`);
  noStack(broken.stderr);
  const skipped = await predictJson([imageRun, join(dir, 'broken.png'), join(data, 'test', 'cats', '00.png'), '--skip-bad']);
  assert.is(skipped.code, 0, skipped.stderr);
  assert.equal(
    skipped.json.skipped.map((s) => s.input),
    [join(dir, 'broken.png')],
  );
  assert.is(skipped.json.predictions.length, 1);
});

test.run();
