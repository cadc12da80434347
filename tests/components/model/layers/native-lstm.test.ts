// TensorFlow's BlockLSTMV2/BlockLSTMGradV2 through the native backend, as a graph (both directions
// at once) and as eager ops, agree with a textbook LSTM (outputs and gradients) on several shapes;
// nothing leaks. Skipped without tfjs-node's backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../../helpers/backend.ts';
import * as tf from '@tensorflow/tfjs';
import { layerGraphAvailable, layerGraphError } from '../../../../components/model/layers/lstm-graph.ts';
import { nativeBidirectionalLstm, nativeLstmAvailable, type NativeOptions } from '../../../../components/model/layers/native-lstm.ts';
import { onBackend } from '../../../helpers/tensors.ts';
import type { BiLstm } from './lstm-helpers.ts';
import { assertMatchesReference, nativeBackendLoaded, outputAndGrads, problem, referenceResults, SHAPES } from './lstm-helpers.ts';

const native = nativeBackendLoaded();
/** A test that needs the native backend: reported as skipped without it (CI fails on skipped tests). */
const nativeTest = native ? test : test.skip;

/** The ways to run the kernels; the last runs outputs without gradient recording in batch chunks of 2. */
const VARIANTS: Array<{ name: string; options: NativeOptions }> = [
  { name: 'graph', options: { mode: 'graph' } },
  { name: 'eager', options: { mode: 'eager' } },
  { name: 'graph, inference in chunks', options: { mode: 'graph', inferenceBytes: 1 } },
];
const run =
  (options: NativeOptions): BiLstm =>
  (x, w) =>
    nativeBidirectionalLstm(x, w, options);

test('not available on the pure-JS CPU backend', async () => {
  assert.is(await onBackend('cpu', () => nativeLstmAvailable()), false);
  assert.is(await onBackend('cpu', () => layerGraphAvailable()), false);
});

nativeTest('available on the native backend; the graph loads on the native CPU backend', async () => {
  assert.is(await onBackend('tensorflow', () => nativeLstmAvailable()), true);
  assert.is(await onBackend('tensorflow', () => layerGraphAvailable()), true, `${layerGraphError()}`);
});

for (const shape of SHAPES) {
  const name = `batch ${shape.batch}, time ${shape.time}, input ${shape.input}, units ${shape.units}`;
  nativeTest(`outputs and gradients equal the reference LSTM's (${name})`, async () => {
    const p = problem(shape, shape.time + 10 * shape.batch);
    const expected = await referenceResults(p);
    for (const { name, options } of VARIANTS) {
      const actual = await onBackend('tensorflow', () => outputAndGrads(run(options), p));
      assertMatchesReference(actual, expected, `native ${name}`, p);
    }
  });
}

nativeTest('forward and backward leave no tensors or backend data behind (the int64 sequence length included)', async () => {
  await onBackend('tensorflow', () => {
    for (const { name, options } of VARIANTS) {
      const p = problem(SHAPES[0]!, 3);
      outputAndGrads(run(options), p); // warm-up
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      outputAndGrads(run(options), p);
      tf.tidy(() => {
        const forward = {
          kernel: tf.ones([4, 8]) as tf.Tensor2D,
          recurrentKernel: tf.ones([2, 8]) as tf.Tensor2D,
          bias: tf.ones([8]) as tf.Tensor1D,
        };
        nativeBidirectionalLstm(tf.ones([5, 3, 4]), { forward, backward: forward }, options); // inference: nothing saved
      });
      assert.is(tf.memory().numTensors, tensors, name);
      assert.is(tf.engine().backend.numDataIds(), dataIds, name);
    }
  });
});

test.run();
