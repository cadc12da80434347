import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, parseSetOption } from '../../../runner/config/load.ts';
import { indexRange } from '../../../runner/data/batches.ts';
import type { PreparedData } from '../../../runner/data/types.ts';
import { UNK_ID } from '../../../runner/data/vocab.ts';
import { disposeData, prepareData } from '../../../runner/run/build.ts';
import { rejectsAtKey } from '../../helpers/errors.ts';
import { tempDir, writeTree } from '../../helpers/files.ts';
import { imageDatasetFiles } from '../../components/dataset/image-fixtures.ts';

/** Loads `experiment.yaml` with `data` (YAML flow mapping) written into `dir`, then prepares its data. */
async function prepare(dir: string, data: string, sets: string[] = []): Promise<PreparedData> {
  writeTree(dir, {
    'experiment.yaml': `name: t\nseed: 5\ndata: ${data}\nmodel: {type: small_cnn}\noptimizer: {type: adam, lr: 0.01}\ntracking: false\n`,
  });
  const { config } = loadConfig(join(dir, 'experiment.yaml'), sets.map(parseSetOption));
  return prepareData(config, { configDir: dir, warn() {} });
}

/** 20 training texts per class, each with its own token `uN` (and a shared word); 2 test texts. */
function textFiles(): Record<string, string> {
  const files: Record<string, string> = { 'test/a/0.txt': 'common u0', 'test/b/0.txt': 'common u1' };
  for (let i = 0; i < 40; i++) files[`train/${i < 20 ? 'a' : 'b'}/${String(i).padStart(2, '0')}.txt`] = `u${i} common`;
  return files;
}

const rows = (data: PreparedData, split: 'train' | 'validation') => {
  const source = data[split]!;
  const { x, y } = source.batch(indexRange(0, source.count), false);
  const result = { ids: x.arraySync() as number[][], labels: Array.from(y.dataSync()) };
  tf.dispose([x, y]);
  return result;
};

test('data.validation: the vocabulary comes from the remaining training texts; held-out tokens are <unk>', async () => {
  const dir = writeTree(tempDir(), textFiles());
  const data = await prepare(dir, '{dataset: {type: text_folder, path: .}, max_len: 4, validation: {fraction: 0.25}}');
  try {
    assert.is(data.train.count, 30);
    assert.is(data.validation!.count, 10);
    assert.is(data.test.count, 2);
    assert.is(data.validationSource, 'fraction 0.25 of train (stratified, seed 5)');
    const validation = rows(data, 'validation');
    assert.equal(validation.labels.filter((l) => l === 0).length, 5, 'stratified: half of the held-out texts are of class a');
    // Every held-out text's own token is <unk>; the shared word is known.
    for (const ids of validation.ids) assert.equal(ids.slice(0, 2), [UNK_ID, data.vocab!.id('common')]);
    for (const ids of rows(data, 'train').ids) assert.is.not(ids[0], UNK_ID);
    // 2 specials + 'common' + the 30 training tokens.
    assert.is(data.vocab!.size, 33);
  } finally {
    disposeData(data);
  }
});

test('the seed of data.validation defaults to the experiment seed; its own seed changes the split', async () => {
  const dir = writeTree(tempDir(), textFiles());
  const heldOut = async (validation: string) => {
    const data = await prepare(dir, `{dataset: {type: text_folder, path: .}, max_len: 4, validation: ${validation}}`);
    const known = data.vocab!.tokens.filter((t) => t.startsWith('u'));
    disposeData(data);
    return known;
  };
  const first = await heldOut('{fraction: 0.25}');
  assert.equal(await heldOut('{fraction: 0.25, seed: 5}'), first);
  assert.not.equal(await heldOut('{fraction: 0.25, seed: 6}'), first);
});

test('an own validation split plus data.validation is an error at data.validation; dataset errors are located under data.dataset', async () => {
  const dir = writeTree(tempDir(), { ...textFiles(), 'val/a/0.txt': 'x', 'val/b/0.txt': 'y' });
  const own = await prepare(dir, '{dataset: {type: text_folder, path: ., validation_split: val}, max_len: 4}');
  assert.is(own.validation!.count, 2);
  assert.is(own.validationSource, 'split val');
  disposeData(own);
  const located = (data: string, path: (string | number)[], pattern: RegExp) =>
    rejectsAtKey(async () => disposeData(await prepare(dir, data)), path, pattern);
  await located(
    '{dataset: {type: text_folder, path: ., validation_split: val}, validation: {fraction: 0.1}}',
    ['data', 'validation'],
    /already has its own validation split \(split val\)/,
  );
  await located('{dataset: {type: text_folder, path: ., validation_split: nope}}', ['data', 'dataset', 'validation_split'], /'nope'/);
});

test('image data: validation batches take the evaluation path even when asked for training batches', async () => {
  const dir = writeTree(tempDir(), imageDatasetFiles({ perClass: 5 }));
  const data = await prepare(
    dir,
    '{dataset: {type: image_folder, path: ., image_size: [12, 16]}, validation: {fraction: 0.2}, ' +
      'augmentation: [{type: random_horizontal_flip, p: 1}, {type: resize, size: [6, 8]}]}',
  );
  try {
    assert.is(data.train.count, 8);
    assert.is(data.validation!.count, 2);
    const all = indexRange(0, 2);
    tf.tidy(() => {
      const evaluation = data.validation!.batch(all, false).x;
      const askedTraining = data.validation!.batch(all, true).x;
      assert.equal(askedTraining.shape, [2, 6, 8, 3]);
      assert.equal(askedTraining.arraySync(), evaluation.arraySync(), 'no flip on validation images');
      const flipped = data.train.batch(indexRange(0, 1), true).x;
      const plain = data.train.batch(indexRange(0, 1), false).x;
      assert.not.equal(flipped.arraySync(), plain.arraySync(), 'training batches are flipped');
    });
  } finally {
    disposeData(data);
  }
});

test.run();
