import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { assignStored, CheckpointError, CheckpointStore, tensorsOf } from '../../../runner/train/checkpoint.ts';
import { tempDir } from '../../helpers/files.ts';

const tensors = (scale: number) => [
  {
    group: 'model',
    name: 'w',
    tensor: tf.tensor2d([
      [1 * scale, 2],
      [3, 4.5],
    ]),
  },
  { group: 'model', name: 'b', tensor: tf.tensor1d([0.25, -1e-7 * scale]) },
  {
    group: 'optimizer',
    name: 'w/exp_avg',
    tensor: tf.tensor2d([
      [5, 6],
      [7, 8 * scale],
    ]),
  },
];

async function saved(dir: string, name: string, scale: number, state: unknown = { epoch: scale }) {
  const list = tensors(scale);
  await new CheckpointStore(dir).save(name, list, state);
  list.forEach((t) => t.tensor.dispose());
}

test('save then load: every tensor bit for bit, the state, grouped in order', async () => {
  const dir = tempDir();
  await saved(dir, 'last', 3, { epoch: 3, random: { shuffle: 4294967295 } });
  const loaded = new CheckpointStore(dir).load<{ epoch: number; random: { shuffle: number } }>('last', () => assert.unreachable());
  assert.equal(loaded.state, { epoch: 3, random: { shuffle: 4294967295 } });
  assert.equal(
    tensorsOf(loaded, 'model').map((t) => [t.name, t.shape, [...t.values]]),
    [
      ['w', [2, 2], [3, 2, 3, 4.5]],
      ['b', [2], [0.25, Math.fround(-3e-7)]],
    ],
  );
  assert.equal(tensorsOf(loaded, 'optimizer')[0]!.values, new Float32Array([5, 6, 7, 24]));
});

test('a second save keeps the first as <name>.previous; a folder left by a dead writer is never read and is cleaned up', async () => {
  const dir = tempDir();
  await saved(dir, 'last', 1);
  await saved(dir, 'last', 2);
  const store = new CheckpointStore(dir);
  assert.is(store.load<{ epoch: number }>('last', () => {}).state.epoch, 2);
  assert.ok(existsSync(join(store.dir, 'last.previous', 'checkpoint.json')));
  // A write interrupted before its rename (Ctrl-C twice, SIGKILL) leaves only a partial folder.
  mkdirSync(join(store.dir, 'last.partial-99999'));
  writeFileSync(join(store.dir, 'last.partial-99999', 'tensors.bin'), 'half');
  assert.is(store.load<{ epoch: number }>('last', () => {}).state.epoch, 2);
  store.removePartials();
  assert.not.ok(existsSync(join(store.dir, 'last.partial-99999')));
});

test('a damaged checkpoint is named, and the previous good one is used; with none good, the error names the file', async () => {
  const dir = tempDir();
  await saved(dir, 'last', 1);
  await saved(dir, 'last', 2);
  const store = new CheckpointStore(dir);
  const data = join(store.dir, 'last', 'tensors.bin');
  const bytes = readFileSync(data);
  bytes[3] = bytes[3]! ^ 0xff; // same size, one bit pattern changed
  writeFileSync(data, bytes);
  const warnings: string[] = [];
  assert.is(store.load<{ epoch: number }>('last', (m) => warnings.push(m)).state.epoch, 1);
  assert.match(warnings[0]!, `${data} is damaged: its SHA-256 does not match`);
  assert.match(warnings[0]!, 'using the previous checkpoint');

  writeFileSync(join(store.dir, 'last.previous', 'checkpoint.json'), '{"format": "runner-check');
  try {
    store.load('last', () => {});
    assert.unreachable();
  } catch (error) {
    assert.instance(error, CheckpointError);
    assert.match((error as Error).message, join(store.dir, 'last.previous', 'checkpoint.json'));
  }
});

test("copy makes best share last's files (hard links: no data copied)", async () => {
  const dir = tempDir();
  await saved(dir, 'last', 5);
  const store = new CheckpointStore(dir);
  store.copy('last', 'best');
  assert.is(statSync(join(store.dir, 'best', 'tensors.bin')).ino, statSync(join(store.dir, 'last', 'tensors.bin')).ino);
  await saved(dir, 'last', 6); // a new last is a new file: best keeps epoch 5
  assert.is(store.load<{ epoch: number }>('best', () => {}).state.epoch, 5);
});

test('assignStored puts values back into variables; a checkpoint of another model is refused with a reason', async () => {
  const dir = tempDir();
  await saved(dir, 'last', 2);
  const loaded = new CheckpointStore(dir).load('last', () => {});
  const w = tf.variable(tf.zeros([2, 2]));
  const b = tf.variable(tf.zeros([2]));
  const before = tf.memory().numTensors;
  assignStored([w, b], tensorsOf(loaded, 'model'), 'weight', loaded.dir);
  assert.is(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal([...w.dataSync()], [2, 2, 3, 4.5]);
  const wrong = tf.variable(tf.zeros([3, 2]));
  assert.throws(
    () => assignStored([wrong, b], tensorsOf(loaded, 'model'), 'weight', loaded.dir),
    /of shape \[2,2\], the model's is \[3,2\]/,
  );
  assert.throws(() => assignStored([w], tensorsOf(loaded, 'model'), 'weight', loaded.dir), /holds 2 weight tensors, the model has 1/);
  [w, b, wrong].forEach((v) => v.dispose());
});

test.run();
