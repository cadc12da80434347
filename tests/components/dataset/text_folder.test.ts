import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { datasets } from '../../../components/dataset/index.ts';
import { UserError } from '../../../runner/errors.ts';
import { rejectsAtKey } from '../../helpers/errors.ts';
import type { TextDataset } from '../../../runner/data/types.ts';
import { fixture, tempDir, writeTree } from '../../helpers/files.ts';

const context = { configDir: '.', warn() {} };
async function load(path: string, extra: Record<string, unknown> = {}): Promise<TextDataset> {
  const data = await datasets.build({ type: 'text_folder', path, ...extra }, context);
  assert.is(data.kind, 'text');
  return data as TextDataset;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, UserError);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('reads both splits, classes sorted, newlines removed', async () => {
  const root = writeTree(tempDir(), {
    'train/pos/1.txt': 'good\nfilm',
    'train/neg/1.txt': 'bad film',
    'train/neg/2.txt': 'awful',
    'test/pos/1.txt': 'great',
    'test/neg/1.txt': 'dull',
    'train/pos/ignored.md': 'not read',
  });
  const data = await load(root);
  assert.equal(data.classes, ['neg', 'pos']);
  assert.equal(data.train.texts, ['bad film', 'awful', 'goodfilm']);
  assert.equal([...data.train.labels], [0, 0, 1]);
  assert.equal([...data.test.labels], [0, 1]);
});

test('explicit class order sets label indices', async () => {
  const data = await load(fixture('sentences'), { classes: ['pos', 'neg'] });
  assert.is(data.classes[0], 'pos');
  assert.is(data.train.labels[0], 1, 'first file read is under neg/');
  assert.is(data.train.texts.length, 300);
});

test('clear errors naming the file or folder', async () => {
  await rejects(load('/nonexistent/corpus'), /The text_folder dataset \/nonexistent\/corpus does not exist/);
  await rejects(load(writeTree(tempDir(), { 'train/pos/1.txt': 'x', 'train/neg/1.txt': 'y' })), /'test' split folder .* does not exist/);
  await rejects(
    load(writeTree(tempDir(), { 'train/pos/1.txt': '', 'train/neg/1.txt': 'y', 'test/pos/1.txt': 'a', 'test/neg/1.txt': 'b' })),
    /train\/pos\/1.txt is empty/,
  );
  await rejects(
    load(
      writeTree(tempDir(), {
        'train/pos/1.txt': new Uint8Array([0x66, 0xff, 0xfe]),
        'train/neg/1.txt': 'y',
        'test/pos/1.txt': 'a',
        'test/neg/1.txt': 'b',
      }),
    ),
    /1.txt is not valid UTF-8/,
  );
  await rejects(
    load(writeTree(tempDir(), { 'train/pos/1.txt': 'x', 'train/neg/1.txt': 'y', 'test/pos/1.txt': 'a', 'test/meh/1.txt': 'b' })),
    /label sets of the splits differ/,
  );
});

test('validation_split: the own val/ folder is read beside train/ and test/, with the same label indices', async () => {
  const files = {
    'train/pos/1.txt': 'good',
    'train/neg/1.txt': 'bad',
    'test/pos/1.txt': 'great',
    'test/neg/1.txt': 'dull',
    'val/neg/1.txt': 'poor\nfilm',
    'val/pos/1.txt': 'fine',
    'val/pos/2.txt': 'lovely',
  };
  const root = writeTree(tempDir(), files);
  const data = await load(root, { validation_split: 'val' });
  assert.equal(data.validation!.texts, ['poorfilm', 'fine', 'lovely']);
  assert.equal([...data.validation!.labels], [0, 1, 1]);
  assert.is(data.validationSource, 'split val');
  assert.is((await load(root)).validation, undefined, 'no validation_split: no validation split');
});

test('validation_split problems are ConfigKeyErrors at validation_split', async () => {
  const base = { 'train/pos/1.txt': 'a', 'train/neg/1.txt': 'b', 'test/pos/1.txt': 'c', 'test/neg/1.txt': 'd' };
  const atKey = (files: Record<string, string>, split: string, pattern: RegExp) =>
    rejectsAtKey(() => load(writeTree(tempDir(), files), { validation_split: split }), ['validation_split'], pattern);
  await atKey(base, 'val', /'val' split folder .* does not exist/);
  await atKey({ ...base, 'val/README': 'x' }, 'val', /'val' split folder .* has no class subfolders/);
  await atKey(
    { ...base, 'val/pos/1.txt': 'e' },
    'val',
    /validation split's classes differ .* Training has 'neg', 'pos'; validation has 'pos'/,
  );
  await atKey({ ...base, 'val/pos/1.txt': 'e', 'val/neg/1.txt': 'f', 'val/odd/1.txt': 'g' }, 'val', /validation has 'neg', 'odd', 'pos'/);
  await atKey(base, 'test', /the validation split folder 'test' is also the test split folder/);
});

test.run();
