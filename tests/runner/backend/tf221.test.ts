// TensorFlow 2.21 differs from the 2.9.1 tfjs-node was written for in two places; the raw ops show
// it (if a TensorFlow release fixes them, these fail and runner/backend/tf221.ts can go), and the
// patched kernels give tfjs's results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../runner/backend/select.ts';
import { patchTensorFlow221Kernels } from '../../../runner/backend/tf221.ts';
import type { NativeBackend } from '../../../runner/backend/tf221.ts';

const native = (): NativeBackend => tf.findBackend('tensorflow') as unknown as NativeBackend;

test.before(async () => {
  const report = await selectBackend('cpu');
  assert.is(report.tfBackend, 'tensorflow', `native backend expected: ${JSON.stringify(report)}`);
  await tf.setBackend('tensorflow');
});

test('TF 2.21: the raw Round op on int32 returns zeros', () => {
  const x = tf.tensor1d([1, 2, -3, 7], 'int32');
  const raw = native().executeSingleInput('Round', x) as tf.Tensor;
  assert.equal(Array.from(raw.dataSync()), [0, 0, 0, 0]);
  tf.dispose([x, raw]);
});

test('TF 2.21: the raw ConcatV2 op rejects scalars', () => {
  const b = native();
  const attrs = [
    { name: 'N', type: (b.binding as unknown as Record<string, number>).TF_ATTR_INT!, value: 2 },
    { name: 'Tidx', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_INT32 },
    { name: 'T', type: b.binding.TF_ATTR_TYPE, value: (b.binding as unknown as Record<string, number>).TF_FLOAT! },
  ];
  const inputs = [tf.scalar(1), tf.scalar(2), tf.scalar(0, 'int32')];
  assert.throws(() => b.executeSingleOutput('ConcatV2', attrs, inputs), /concatenate scalars/);
  tf.dispose(inputs);
});

test('patched: tf.round on int32 is the identity, float32 rounds half to even as in pure JS', async () => {
  const ints = tf.tidy(() => {
    const r = tf.round(tf.tensor1d([1, 2, -3, 2147483647], 'int32'));
    assert.is(r.dtype, 'int32');
    return Array.from(r.dataSync());
  });
  assert.equal(ints, [1, 2, -3, 2147483647]);
  const rounded = () => tf.tidy(() => Array.from(tf.round(tf.tensor1d([0.5, 1.5, -2.5, 2.4, -0.6])).dataSync()));
  const floats = rounded();
  await tf.setBackend('cpu');
  const js = rounded();
  await tf.setBackend('tensorflow');
  assert.equal(floats, js);
});

test('patched: tf.concat of scalars gives a vector, of vectors is unchanged, and leaks no tensor', () => {
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => tf.concat([tf.scalar(1), tf.scalar(2), tf.tensor1d([3, 4])]).arraySync());
  assert.equal(out, [1, 2, 3, 4]);
  assert.equal(
    tf.tidy(() => tf.concat([tf.tensor2d([[1]]), tf.tensor2d([[2]])], 1).arraySync()),
    [[1, 2]],
  );
  assert.is(tf.memory().numTensors, before);
});

test('patched: tfjs-node histogram summaries of constant data (scalar concat) are written', async () => {
  const { node } = await import('@tensorflow/tfjs-node');
  const dir = mkdtempSync(join(tmpdir(), 'runner-tf221-'));
  try {
    const writer = node.summaryFileWriter(dir);
    tf.tidy(() => {
      writer.histogram('constant', tf.ones([5]), 0);
      writer.histogram('spread', tf.tensor1d([1, 2, 3]), 1);
    });
    writer.flush();
    const files = readdirSync(dir);
    assert.ok(files.length > 0 && statSync(join(dir, files[0]!)).size > 100, 'an event file with data');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('patching twice changes nothing', () => {
  const round = tf.getKernel('Round', 'tensorflow');
  patchTensorFlow221Kernels();
  assert.is(tf.getKernel('Round', 'tensorflow'), round);
});

test.run();
